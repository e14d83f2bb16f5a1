# Copyright (c) mmclipself contributors. All rights reserved.
"""Tiny COCO / LVIS v1 detection sets on real photos with hand-made boxes.

Three photos of ``skimage.data`` are annotated by hand:

========  =============  =========  ==========================================
image id  photo          size (WxH) objects (COCO ``xywh`` boxes)
========  =============  =========  ==========================================
1         chelsea.png    451x300    cat ``(0, 0, 400, 300)``
2         coffee.png     600x400    cup ``(168, 16, 240, 288)``,
                                    spoon ``(324, 64, 100, 264)``,
                                    saucer ``(76, 72, 404, 316)`` (LVIS only)
3         astronaut.png  512x512    person ``(20, 16, 340, 496)``
========  =============  =========  ==========================================

Every object's mask is an octagon polygon touching the four sides of its box
(the box corners cut by a quarter of the box width / height), so its area is
``7 / 8 * w * h``. In OV-COCO, person and spoon are base classes and cat and
cup are novel; in the tiny LVIS set cat is rare, cup and saucer common,
person and spoon frequent.
"""
import json
import os.path as osp
import shutil
from pathlib import Path
from typing import Dict, List, Optional, Sequence, Tuple

from PIL import Image

#: COCO 2017 category ids of the 80 classes, in mmdet's class order.
COCO_IDS = (1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 13, 14, 15, 16, 17, 18, 19, 20,
            21, 22, 23, 24, 25, 27, 28, 31, 32, 33, 34, 35, 36, 37, 38, 39, 40,
            41, 42, 43, 44, 46, 47, 48, 49, 50, 51, 52, 53, 54, 55, 56, 57, 58,
            59, 60, 61, 62, 63, 64, 65, 67, 70, 72, 73, 74, 75, 76, 77, 78, 79,
            80, 81, 82, 84, 85, 86, 87, 88, 89, 90)

Box = Tuple[int, int, int, int]

#: (image id, photo, [(class name, COCO xywh box)]); LVIS-only objects are
#: in ``LVIS_ONLY``.
IMAGES: List[Tuple[int, str, List[Tuple[str, Box]]]] = [
    (1, 'chelsea.png', [('cat', (0, 0, 400, 300))]),
    (2, 'coffee.png', [('cup', (168, 16, 240, 288)),
                       ('spoon', (324, 64, 100, 264))]),
    (3, 'astronaut.png', [('person', (20, 16, 340, 496))]),
]
LVIS_ONLY: Dict[int, List[Tuple[str, Box]]] = {
    2: [('saucer', (76, 72, 404, 316))]
}
#: (width, height) of the photos.
SIZES = {1: (451, 300), 2: (600, 400), 3: (512, 512)}

#: LVIS v1 ids (= position in ``LVISV1Dataset.METAINFO['classes']`` + 1),
#: synsets and the frequencies given in the tiny set (cat made rare).
LVIS_CATEGORIES = (
    dict(id=225, name='cat', synset='cat.n.01', frequency='r'),
    dict(id=344, name='cup', synset='cup.n.01', frequency='c'),
    dict(id=793, name='person', synset='person.n.01', frequency='f'),
    dict(id=915, name='saucer', synset='saucer.n.02', frequency='c'),
    dict(id=1000, name='spoon', synset='spoon.n.01', frequency='f'),
)
#: Per image: LVIS categories verified absent (``neg_category_ids``).
LVIS_NEG = {1: [344, 1000], 2: [225], 3: [225, 344]}


def coco_category_ids() -> Dict[str, int]:
    """Map the 80 mmdet COCO class names to their COCO 2017 ids."""
    from mmdet.datasets import CocoDataset
    names = CocoDataset.METAINFO['classes']
    assert len(names) == len(COCO_IDS) == 80
    return dict(zip(names, COCO_IDS))


def octagon(box: Sequence[float]) -> List[float]:
    """Flat polygon ``[x1, y1, x2, y2, ...]`` of the box with cut corners."""
    x, y, w, h = box
    qw, qh = w / 4, h / 4
    pts = [(x + qw, y), (x + w - qw, y), (x + w, y + qh), (x + w, y + h - qh),
           (x + w - qw, y + h), (x + qw, y + h), (x, y + h - qh), (x, y + qh)]
    return [float(v) for p in pts for v in p]


def _annotation(ann_id: int, img_id: int, cat_id: int, box: Box) -> dict:
    x, y, w, h = box
    return dict(
        id=ann_id,
        image_id=img_id,
        category_id=cat_id,
        bbox=[float(v) for v in box],
        segmentation=[octagon(box)],
        area=7 / 8 * w * h)


def _photo(name: str) -> str:
    import skimage.data
    return osp.join(skimage.data.data_dir, name)


def write_tiny_coco(root: Path, split: str = 'val') -> dict:
    """Write a 3-image COCO-format instances file with boxes and polygons.

    Writes ``root/images/{chelsea,coffee,astronaut}.png`` (copied photos)
    and ``root/annotations/instances_{split}.json`` with image ids 1-3, the
    4 objects of :data:`IMAGES` (cat id 17, cup id 47, spoon id 50, person
    id 1; annotation ids 1-4 in that order, ``iscrowd`` 0) and all 80 COCO
    categories with their official ids (so the OV-COCO split can be built
    from it).

    Args:
        root: Output folder (created).
        split: Only used in the annotation file name.

    Returns:
        ``dict(data_root=str(root), ann_file=<absolute path of the json>,
        img_prefix='images/', data_prefix=dict(img='images/'))``; pass
        ``data_root``, ``ann_file`` and ``data_prefix`` to mmdet's
        ``CocoDataset``, and ``ann_file`` to ``CocoMetric``.
    """
    root = Path(root)
    (root / 'images').mkdir(parents=True, exist_ok=True)
    (root / 'annotations').mkdir(parents=True, exist_ok=True)
    ids = coco_category_ids()
    images, annotations = [], []
    for img_id, photo, objects in IMAGES:
        shutil.copy(_photo(photo), root / 'images' / photo)
        w, h = SIZES[img_id]
        images.append(dict(id=img_id, file_name=photo, width=w, height=h))
        for name, box in objects:
            ann = _annotation(len(annotations) + 1, img_id, ids[name], box)
            ann['iscrowd'] = 0
            annotations.append(ann)
    categories = [dict(id=i, name=n) for n, i in ids.items()]
    ann_file = root / 'annotations' / f'instances_{split}.json'
    ann_file.write_text(
        json.dumps(
            dict(
                info=dict(description='tiny COCO test set'),
                licenses=[],
                images=images,
                annotations=annotations,
                categories=categories)))
    return dict(
        data_root=str(root),
        ann_file=str(ann_file.resolve()),
        img_prefix='images/',
        data_prefix=dict(img='images/'))


def write_tiny_lvis(root: Path,
                    split: str = 'val',
                    all_categories: bool = False,
                    frequencies: Optional[Dict[str, str]] = None) -> dict:
    """Write a 3-image LVIS v1-format file with boxes and polygons.

    Like the real set, each image has a ``coco_url``
    (``http://images.cocodataset.org/{split}2017/{id:012d}.jpg``), which
    mmdet's ``LVISV1Dataset`` turns into the file name
    ``{split}2017/{id:012d}.jpg`` relative to its image prefix; the photos
    are written there as JPEG: ``root/{split}2017/00000000000{1,2,3}.jpg``.
    The annotation file is ``root/annotations/lvis_v1_{split}.json`` with the
    5 objects of :data:`IMAGES` and :data:`LVIS_ONLY` (annotation ids 1-5:
    cat, cup, spoon, saucer, person), per-image ``neg_category_ids``
    (:data:`LVIS_NEG`), empty ``not_exhaustive_category_ids``, and
    categories with ``id``, ``name``, ``synset``, ``synonyms``, ``def``,
    ``frequency``, ``image_count`` and ``instance_count`` (counted from the
    written annotations).

    Args:
        root: Output folder (created).
        split: ``'train'`` or ``'val'``: the COCO image folder in the urls.
        all_categories: False writes only the 5 categories of
            :data:`LVIS_CATEGORIES` (mmdet's ``LVISV1Dataset`` then needs
            ``metainfo=dict(classes=...)``, see the returned ``classes``);
            True writes all 1203 LVIS v1 names with ids 1-1203 and made-up
            frequencies (``'rcf'[id % 3]`` for the un-annotated ones).
        frequencies: Optional overrides ``{class name: 'r'|'c'|'f'}``.

    Returns:
        ``dict(data_root=str(root), ann_file=<absolute path of the json>,
        img_prefix='', data_prefix=dict(img=''), classes=<tuple of the
        category names in file order>)``.
    """
    root = Path(root)
    img_dir = root / f'{split}2017'
    img_dir.mkdir(parents=True, exist_ok=True)
    (root / 'annotations').mkdir(parents=True, exist_ok=True)
    freq = {c['name']: c['frequency'] for c in LVIS_CATEGORIES}
    freq.update(frequencies or {})
    if all_categories:
        from mmdet.datasets import LVISV1Dataset
        names = LVISV1Dataset.METAINFO['classes']
        cats = [
            dict(
                id=i,
                name=n,
                synset=f'{n}.n.01',
                frequency=freq.get(n, 'rcf'[i % 3]))
            for i, n in enumerate(names, start=1)
        ]
        for c in LVIS_CATEGORIES:  # the hand-written ids match mmdet's
            assert cats[c['id'] - 1]['name'] == c['name']
            cats[c['id'] - 1]['synset'] = c['synset']
    else:
        cats = [dict(c, frequency=freq[c['name']]) for c in LVIS_CATEGORIES]
    name_to_id = {c['name']: c['id'] for c in cats}
    images, annotations = [], []
    for img_id, photo, objects in IMAGES:
        file_name = f'{img_id:012d}.jpg'
        Image.open(_photo(photo)).convert('RGB').save(
            img_dir / file_name, quality=95)
        w, h = SIZES[img_id]
        images.append(
            dict(
                id=img_id,
                width=w,
                height=h,
                coco_url='http://images.cocodataset.org/'
                f'{split}2017/{file_name}',
                neg_category_ids=LVIS_NEG[img_id],
                not_exhaustive_category_ids=[]))
        for name, box in objects + LVIS_ONLY.get(img_id, []):
            annotations.append(
                _annotation(
                    len(annotations) + 1, img_id, name_to_id[name], box))
    for c in cats:
        mine = [a for a in annotations if a['category_id'] == c['id']]
        c['image_count'] = len({a['image_id'] for a in mine})
        c['instance_count'] = len(mine)
        c.setdefault('synonyms', [c['name']])
        c.setdefault('def', f'a {c["name"]} (tiny test set)')
    ann_file = root / 'annotations' / f'lvis_v1_{split}.json'
    ann_file.write_text(
        json.dumps(
            dict(
                info=dict(description='tiny LVIS v1 test set'),
                licenses=[],
                images=images,
                annotations=annotations,
                categories=cats)))
    return dict(
        data_root=str(root),
        ann_file=str(ann_file.resolve()),
        img_prefix='',
        data_prefix=dict(img=''),
        classes=tuple(c['name'] for c in cats))
