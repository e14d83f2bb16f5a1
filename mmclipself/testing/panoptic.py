# Copyright (c) mmclipself contributors. All rights reserved.
"""Tiny panoptic sets on real photos with hand-made segments.

- :func:`write_tiny_panoptic`: four categories, for the CLIPSelf
  region-recognition tests;
- :func:`write_tiny_coco_panoptic`: COCO panoptic in COCO's layout with the
  133 real categories (MMDetection's ``CocoPanopticDataset``);
- :func:`write_tiny_ade20k`: ADEChallengeData2016 validation in the
  semantic, panoptic (MMDetection's converter) and instance formats;
- :func:`write_panoptic_json_set`: any COCO-panoptic-format set.
"""
import json
import os.path as osp
import shutil
from typing import List, Sequence

import numpy as np
from PIL import Image

CATEGORIES = [
    dict(id=17, name='cat', isthing=1),
    dict(id=47, name='cup', isthing=1),
    dict(id=171, name='wall-other-merged', isthing=0),
    dict(id=189, name='table-merged', isthing=0),
]
# (photo, [(segment id, category id, (y1, y2, x1, x2), iscrowd)])
SEGMENTS = [
    ('chelsea.png', [(1, 17, (48, 240, 96, 352), 0),
                     (2, 171, (0, 48, 0, 451), 0)]),
    ('coffee.png', [(3, 47, (96, 304, 160, 448), 0),
                    (4, 189, (304, 400, 0, 600), 0),
                    (5, 17, (0, 40, 0, 40), 1)]),
]


def write_tiny_panoptic(root):
    """Write images, PNGs and panoptic_val.json under ``root``."""
    import skimage.data
    (root / 'images').mkdir(parents=True)
    (root / 'pan').mkdir()
    images, annotations = [], []
    for img_id, (name, segs) in enumerate(SEGMENTS, start=1):
        shutil.copy(
            osp.join(skimage.data.data_dir, name), root / 'images' / name)
        w, h = Image.open(root / 'images' / name).size
        ids = np.zeros((h, w), np.int64)
        infos = []
        for sid, cat, (y1, y2, x1, x2), crowd in segs:
            ids[y1:y2, x1:x2] = sid
            infos.append(
                dict(
                    id=sid,
                    category_id=cat,
                    iscrowd=crowd,
                    bbox=[x1, y1, x2 - x1, y2 - y1],
                    area=(y2 - y1) * (x2 - x1)))
        rgb = np.stack([ids % 256, ids // 256 % 256, ids // 65536],
                       axis=-1).astype(np.uint8)
        png = name.rsplit('.', 1)[0] + '_pan.png'
        Image.fromarray(rgb).save(root / 'pan' / png)
        images.append(dict(id=img_id, file_name=name, height=h, width=w))
        annotations.append(
            dict(image_id=img_id, file_name=png, segments_info=infos))
    (root / 'panoptic_val.json').write_text(
        json.dumps(
            dict(
                images=images, annotations=annotations,
                categories=CATEGORIES)))
    return dict(
        data_root=str(root),
        ann_file='panoptic_val.json',
        data_prefix=dict(img_path='images/', seg_path='pan/'))


# ---------------------------------------------------------------------------
# Sets in the layouts of the mask-classification data configs
# (configs/_base_/datasets/maskcls_*.py): COCO panoptic, and ADE20K's
# panoptic (MMDetection's converter), semantic and instance formats.

#: COCO panoptic category ids (panopticapi's panoptic_coco_categories.json):
#: the 80 things keep their COCO detection ids, the 53 stuff classes follow;
#: both in MMDetection's ``CocoPanopticDataset`` class order.
COCO_PANOPTIC_THING_IDS = (1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 13, 14, 15, 16,
                           17, 18, 19, 20, 21, 22, 23, 24, 25, 27, 28, 31, 32,
                           33, 34, 35, 36, 37, 38, 39, 40, 41, 42, 43, 44, 46,
                           47, 48, 49, 50, 51, 52, 53, 54, 55, 56, 57, 58, 59,
                           60, 61, 62, 63, 64, 65, 67, 70, 72, 73, 74, 75, 76,
                           77, 78, 79, 80, 81, 82, 84, 85, 86, 87, 88, 89, 90)
COCO_PANOPTIC_STUFF_IDS = (92, 93, 95, 100, 107, 109, 112, 118, 119, 122, 125,
                           128, 130, 133, 138, 141, 144, 145, 147, 148, 149,
                           151, 154, 155, 156, 159, 161, 166, 168, 171, 175,
                           176, 177, 178, 180, 181, 184, 185, 186, 187, 188,
                           189, 190, 191, 192, 193, 194, 195, 196, 197, 198,
                           199, 200)


def coco_panoptic_categories() -> List[dict]:
    """The 133 COCO panoptic categories (id, name, isthing)."""
    from mmdet.datasets import CocoPanopticDataset
    meta = CocoPanopticDataset.METAINFO
    ids = COCO_PANOPTIC_THING_IDS + COCO_PANOPTIC_STUFF_IDS
    return [
        dict(id=i, name=n, isthing=int(n in meta['thing_classes']))
        for i, n in zip(ids, meta['classes'])
    ]


def ade20k_panoptic_categories() -> List[dict]:
    """ADE-150 panoptic categories as MMDetection's ``ade20k2coco.py``
    numbers them: ids 0..149, the 100 things first, then the 50 stuff."""
    from mmdet.datasets import ADE20KPanopticDataset
    meta = ADE20KPanopticDataset.METAINFO
    return [
        dict(id=i, name=n, isthing=int(i < len(meta['thing_classes'])))
        for i, n in enumerate(meta['classes'])
    ]


def photo(name: str) -> np.ndarray:
    """An RGB uint8 photo of ``skimage.data`` (``'chelsea'``, ...)."""
    import skimage.data
    img = getattr(skimage.data, name)()
    return np.ascontiguousarray(img[..., :3])


def _bbox(mask: np.ndarray) -> List[int]:
    ys, xs = np.nonzero(mask)
    return [
        int(xs.min()),
        int(ys.min()),
        int(xs.max() - xs.min() + 1),
        int(ys.max() - ys.min() + 1)
    ]


def id2rgb_png(ids: np.ndarray, path) -> None:
    """Save a segment-id map as COCO panoptic stores it: an RGB PNG with
    ``id = R + 256 G + 256^2 B`` (0 is void)."""
    ids = np.asarray(ids, np.int64)
    rgb = np.stack([ids % 256, ids // 256 % 256, ids // 65536], -1)
    Image.fromarray(rgb.astype(np.uint8)).save(path)


def write_panoptic_json_set(root, img_dir: str, pan_dir: str, ann_file: str,
                            categories: Sequence[dict],
                            items: Sequence[dict]) -> None:
    """Write a set in COCO panoptic format under ``root``.

    Args:
        root: Data root (a ``pathlib.Path``).
        img_dir: Image folder, relative to ``root``.
        pan_dir: Folder of the panoptic PNGs, relative to ``root``.
        ann_file: The json, relative to ``root``.
        categories: ``dict(id, name, isthing)`` entries, in class order.
        items: Per image ``dict(image_id, file_name, image, ids, segments)``:
            ``file_name`` a ``.jpg`` name, ``image`` (H, W, 3) uint8 RGB,
            ``ids`` (H, W) segment ids (0 = void), ``segments`` a list of
            ``(segment id, category id, iscrowd)``. Areas and boxes are
            computed from ``ids``; the PNG is named like the image, as
            MMDetection's ``CocoPanopticMetric`` reads it.
    """
    (root / img_dir).mkdir(parents=True, exist_ok=True)
    (root / pan_dir).mkdir(parents=True, exist_ok=True)
    images, annotations = [], []
    for item in items:
        ids, name = np.asarray(item['ids']), item['file_name']
        h, w = ids.shape
        assert item['image'].shape[:2] == (h, w), name
        Image.fromarray(item['image']).save(root / img_dir / name, quality=95)
        png = osp.splitext(name)[0] + '.png'
        id2rgb_png(ids, root / pan_dir / png)
        infos = []
        for sid, cat, crowd in item['segments']:
            mask = ids == sid
            assert mask.any(), f'{name}: segment {sid} is empty'
            infos.append(
                dict(
                    id=sid,
                    category_id=cat,
                    iscrowd=crowd,
                    bbox=_bbox(mask),
                    area=int(mask.sum())))
        images.append(
            dict(id=item['image_id'], file_name=name, height=h, width=w))
        annotations.append(
            dict(
                image_id=item['image_id'], file_name=png, segments_info=infos))
    (root / ann_file).parent.mkdir(parents=True, exist_ok=True)
    (root / ann_file).write_text(
        json.dumps(
            dict(
                images=images,
                annotations=annotations,
                categories=list(categories))))


def _rects(shape, rects) -> np.ndarray:
    """An id map from ``[(id, (y1, y2, x1, x2)), ...]``, later wins."""
    ids = np.zeros(shape, np.int64)
    for sid, (y1, y2, x1, x2) in rects:
        ids[y1:y2, x1:x2] = sid
    return ids


#: COCO scenes: (photo, [(segment id, class name, (y1, y2, x1, x2),
#: iscrowd)]); pixels left uncovered are void.
COCO_SCENES = [
    ('chelsea', [(1, 'wall-other-merged', (0, 60, 0, 451), 0),
                 (2, 'cat', (60, 280, 80, 360), 0),
                 (3, 'person', (280, 300, 0, 120), 1)]),
    ('coffee', [(1, 'table-merged', (280, 400, 0, 600), 0),
                (2, 'cup', (90, 300, 150, 450), 0),
                (3, 'cup', (20, 80, 500, 590), 0)]),
]


def write_tiny_coco_panoptic(root, splits=('train2017', 'val2017')) -> dict:
    """A tiny COCO panoptic set in COCO's layout, 133 real categories.

    ``root/<split>/000000000001.jpg``, ``root/annotations/
    panoptic_<split>.json`` and ``root/annotations/panoptic_<split>/
    000000000001.png`` for each split (the same two photos and hand-made
    segments, :data:`COCO_SCENES`).

    Returns:
        ``dict(data_root, classes, segments)``: ``segments[i]`` lists the
        ``(segment id, class index, iscrowd, area)`` of image ``i``.
    """
    cats = coco_panoptic_categories()
    names = [c['name'] for c in cats]
    items, segments = [], []
    for i, (name, segs) in enumerate(COCO_SCENES, start=1):
        img = photo(name)
        ids = _rects(img.shape[:2], [(s, r) for s, _, r, _ in segs])
        items.append(
            dict(
                image_id=i,
                file_name=f'{i:012d}.jpg',
                image=img,
                ids=ids,
                segments=[(s, cats[names.index(c)]['id'], crowd)
                          for s, c, _, crowd in segs]))
        segments.append([(s, names.index(c), crowd, int((ids == s).sum()))
                         for s, c, _, crowd in segs])
    for split in splits:
        write_panoptic_json_set(root, split, f'annotations/panoptic_{split}',
                                f'annotations/panoptic_{split}.json', cats,
                                items)
    return dict(data_root=str(root), classes=names, segments=segments)


#: ADE20K scenes: (photo, [(segment id, ADE panoptic class name,
#: (y1, y2, x1, x2))]). Unlabelled pixels are ADE's "other" (0).
ADE_SCENES = [
    ('chelsea', [(1, 'wall', (0, 100, 0, 451)),
                 (2, 'floor', (250, 300, 0, 451)),
                 (3, 'animal', (100, 250, 100, 350))]),
    ('coffee', [(1, 'wall', (0, 250, 0, 600)),
                (2, 'table', (250, 400, 0, 600)),
                (3, 'glass, drinking glass', (100, 300, 150, 300)),
                (4, 'glass, drinking glass', (100, 300, 350, 450))]),
]
#: ADE panoptic name -> ADE semantic (MMSegmentation) name of the classes
#: in :data:`ADE_SCENES`; the two lists name some classes differently.
ADE_SEMANTIC_NAMES = {
    'wall': 'wall',
    'floor': 'floor',
    'animal': 'animal',
    'table': 'table',
    'glass, drinking glass': 'glass'
}


def write_tiny_ade20k(root) -> dict:
    """A tiny ADEChallengeData2016 validation set in three formats.

    Under ``root``: ``images/validation/ADE_val_0000000{1,2}.jpg``;
    semantic labels ``annotations/validation/*.png`` (uint8, 0 = other,
    ``k`` = ADE-150 semantic class ``k - 1``: the layout of MMDetection's
    ``ADE20KSegDataset``); ADE's instance PNGs
    ``annotations_instance/validation/*.png`` (the converter's input:
    R = thing class + 1 in the panoptic order, G = instance number); the
    panoptic set MMDetection's
    ``tools/dataset_converters/ade20k2coco.py`` writes
    (``ade20k_panoptic_val.json`` + ``ade20k_panoptic_val/*.png``,
    categories 0..149 things first, image ids the file stems); and the
    instance set (``ade20k_instance_val.json``, the 100 things with RLE
    masks; category ids here are the class positions, the converter uses
    ADE's semantic ids: datasets map categories by name).

    Returns:
        ``dict(data_root, semantic, panoptic)``: per image the semantic
        label map (H, W) uint8 as stored, and the
        ``(segment id, panoptic class index, area)`` of each segment.
    """
    import pycocotools.mask as mask_util
    from mmdet.datasets import ADE20KInstanceDataset, ADE20KSegDataset
    pan_cats = ade20k_panoptic_categories()
    pan_names = [c['name'] for c in pan_cats]
    sem_names = list(ADE20KSegDataset.METAINFO['classes'])
    ins_names = list(ADE20KInstanceDataset.METAINFO['classes'])
    (root / 'annotations' / 'validation').mkdir(parents=True)
    (root / 'annotations_instance' / 'validation').mkdir(parents=True)
    items, semantic, panoptic = [], [], []
    ins_images, ins_anns = [], []
    for i, (name, segs) in enumerate(ADE_SCENES, start=1):
        stem = f'ADE_val_{i:08d}'
        img = photo(name)
        ids = _rects(img.shape[:2], [(s, r) for s, _, r in segs])
        sem = np.zeros(ids.shape, np.uint8)
        for sid, cls, _ in segs:
            sem[ids == sid] = sem_names.index(
                ADE_SEMANTIC_NAMES[cls].strip()) + 1
        Image.fromarray(sem).save(root / 'annotations' / 'validation' /
                                  f'{stem}.png')
        # ADE's instance PNG: R = thing class + 1, G = instance number
        ins = np.zeros(ids.shape + (3, ), np.uint8)
        for k, (sid, cls, _) in enumerate(segs, start=1):
            if pan_cats[pan_names.index(cls)]['isthing']:
                ins[ids == sid, 0] = pan_names.index(cls) + 1
                ins[ids == sid, 1] = k
        Image.fromarray(ins).save(root / 'annotations_instance' /
                                  'validation' / f'{stem}.png')
        semantic.append(sem)
        items.append(
            dict(
                image_id=stem,
                file_name=f'{stem}.jpg',
                image=img,
                ids=ids,
                segments=[(s, pan_names.index(c), 0) for s, c, _ in segs]))
        panoptic.append([(s, pan_names.index(c), int((ids == s).sum()))
                         for s, c, _ in segs])
        ins_images.append(
            dict(
                id=stem,
                file_name=f'{stem}.jpg',
                height=ids.shape[0],
                width=ids.shape[1]))
        for sid, cls, _ in segs:
            label = pan_names.index(cls)
            if not pan_cats[label]['isthing']:
                continue
            mask = ids == sid
            rle = mask_util.encode(np.asfortranarray(mask.astype(np.uint8)))
            rle['counts'] = rle['counts'].decode('utf-8')
            ins_anns.append(
                dict(
                    # from 1: pycocotools' COCOeval never matches id 0
                    # (the converter starts at 0: one ADE val mask is lost)
                    id=len(ins_anns) + 1,
                    image_id=stem,
                    category_id=label,
                    iscrowd=0,
                    bbox=_bbox(mask),
                    area=int(mask.sum()),
                    segmentation=rle))
    write_panoptic_json_set(root, 'images/validation', 'ade20k_panoptic_val',
                            'ade20k_panoptic_val.json', pan_cats, items)
    ins_cats = [dict(id=i, name=n) for i, n in enumerate(ins_names)]
    (root / 'ade20k_instance_val.json').write_text(
        json.dumps(
            dict(images=ins_images, annotations=ins_anns,
                 categories=ins_cats)))
    return dict(data_root=str(root), semantic=semantic, panoptic=panoptic)
