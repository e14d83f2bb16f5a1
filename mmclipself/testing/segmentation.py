# Copyright (c) mmclipself contributors. All rights reserved.
"""Tiny semantic-segmentation sets: real photos, hand-made label maps.

The sets are written in the layouts of the Cat-Seg data configs
(``configs/_base_/datasets/catseg_<name>.py``), so a test points a config's
``data_root`` at the folder and builds its dataloader unchanged.
"""
import os.path as osp
from pathlib import Path
from typing import Dict, Sequence, Tuple, Union

import numpy as np
from PIL import Image

PathLike = Union[str, Path]
#: Sample name -> (H, W) label map.
Labels = Dict[str, np.ndarray]

#: skimage.data photos used in turn for the samples.
PHOTOS = ('astronaut.png', 'chelsea.png', 'coffee.png')

#: Folders, label suffix and split file of each config's test set
#: (``coco_stuff164k_train``: the training set).
LAYOUTS: Dict[str, dict] = {
    'coco_stuff164k':
    dict(
        img_path='images/val2017',
        seg_map_path='annotations/val2017',
        seg_map_suffix='_labelTrainIds.png'),
    'coco_stuff164k_train':
    dict(
        img_path='images/train2017',
        seg_map_path='annotations/train2017',
        seg_map_suffix='_labelTrainIds.png'),
    'ade20k_150':
    dict(
        img_path='images/validation',
        seg_map_path='annotations/validation',
        seg_map_suffix='.png'),
    'ade20k_847':
    dict(
        img_path='images_detectron2/validation',
        seg_map_path='annotations_detectron2/validation',
        seg_map_suffix='.tif'),
    'pascal_context_59':
    dict(
        img_path='JPEGImages',
        seg_map_path='SegmentationClassContext',
        seg_map_suffix='.png',
        ann_file='ImageSets/SegmentationContext/val.txt'),
    'pascal_context_459':
    dict(
        img_path='JPEGImages',
        seg_map_path='annotations_detectron2/pc459_val',
        seg_map_suffix='.tif'),
    'voc20':
    dict(
        img_path='JPEGImages',
        seg_map_path='SegmentationClass',
        seg_map_suffix='.png',
        ann_file='ImageSets/Segmentation/val.txt'),
}
LAYOUTS['voc20b'] = LAYOUTS['voc20']


def photo(name: str, size: Tuple[int, int]) -> np.ndarray:
    """A skimage.data photo as RGB uint8, resized to ``size`` = (h, w)."""
    import skimage.data
    img = Image.open(osp.join(skimage.data.data_dir, name)).convert('RGB')
    return np.asarray(img.resize((size[1], size[0]), Image.BILINEAR))


def save_label(path: PathLike, label: np.ndarray) -> None:
    """Write a (H, W) label map: uint8 as PNG, uint16 as TIFF (``I;16``).

    Raises:
        ValueError: Another dtype or shape.
    """
    if label.ndim != 2 or label.dtype not in (np.uint8, np.uint16):
        raise ValueError(f'label map for {path}: need (H, W) uint8 or '
                         f'uint16, got {label.shape} {label.dtype}')
    Image.fromarray(label).save(str(path))


def write_seg_set(root: PathLike,
                  layout: str,
                  labels: Labels,
                  extra_images: Sequence[str] = ()) -> str:
    """Write a tiny set in one of :data:`LAYOUTS` under ``root``.

    Args:
        root: The set's ``data_root`` (created).
        layout: A key of :data:`LAYOUTS`.
        labels: Sample name -> label map; each sample gets a photo of
            :data:`PHOTOS` (in turn) at the label's size, as JPEG.
        extra_images: Names of images written without label (and left out
            of the split file), e.g. VOC2010 images outside PC-459.

    Returns:
        ``root`` as a string.
    """
    spec = LAYOUTS[layout]
    root = Path(root)
    img_dir = root / spec['img_path']
    seg_dir = root / spec['seg_map_path']
    img_dir.mkdir(parents=True, exist_ok=True)
    seg_dir.mkdir(parents=True, exist_ok=True)
    names = list(labels) + list(extra_images)
    for i, name in enumerate(names):
        size = labels[name].shape if name in labels else (32, 48)
        Image.fromarray(photo(PHOTOS[i % len(PHOTOS)], size)).save(
            img_dir / f'{name}.jpg', quality=95)
        if name in labels:
            save_label(seg_dir / f'{name}{spec["seg_map_suffix"]}',
                       labels[name])
    if 'ann_file' in spec:
        split = root / spec['ann_file']
        split.parent.mkdir(parents=True, exist_ok=True)
        split.write_text(''.join(f'{n}\n' for n in labels))
    return str(root)
