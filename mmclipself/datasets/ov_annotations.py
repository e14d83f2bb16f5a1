# Copyright (c) mmclipself contributors. All rights reserved.
"""Build open-vocabulary detection annotation files from official ones.

Two splits are used by F-ViT / CLIPSelf:

* **OV-COCO** (Bansal et al. 2018): 48 base classes are annotated for
  training, 17 novel classes are only seen at test time. The training file
  (``instances_train2017_seen_2_65_cat.json``) keeps the 65 OV-COCO
  categories and only the base-class annotations; the validation file
  (``instances_val2017_all_2.json``) keeps the 65 categories and all their
  annotations.
* **OV-LVIS** (Gu et al. 2021): the annotations of the 337 rare categories
  are removed from LVIS v1 train; all 1203 categories stay, so the label
  space is unchanged (``lvis_v1_train_seen_1203_cat.json``).

All functions work on the already-loaded json dicts and never modify their
input; to stay fast on the full files, unchanged image and annotation dicts
are shared between input and output, not copied.
"""
import copy
from collections import defaultdict
from typing import Dict, List, Set

from mmclipself.vocab import get_class_names

#: Output file names of the released OV annotation files.
OV_COCO_FILES = {
    'train': 'instances_train2017_seen_2_65_cat.json',
    'val': 'instances_val2017_all_2.json',
}
OV_LVIS_FILE = 'lvis_v1_train_seen_1203_cat.json'

_LVIS_FREQUENCIES = ('r', 'c', 'f')


def _copy_top_level(instances: dict) -> dict:
    """Copy every top-level key except the three big list fields."""
    return {
        k: copy.deepcopy(v)
        for k, v in instances.items()
        if k not in ('images', 'annotations', 'categories')
    }


def _check_coco_like(instances: dict) -> None:
    for key in ('images', 'annotations', 'categories'):
        if key not in instances:
            raise ValueError(
                f'not a COCO-style instances dict: missing key {key!r}')


def build_ov_coco(instances: dict, split: str) -> dict:
    """Build an OV-COCO (48 base + 17 novel classes) annotation dict.

    Args:
        instances: An official COCO 2017 ``instances_*.json`` dict with
            ``images``, ``annotations`` and ``categories``.
        split: ``'train'`` keeps only the annotations of the 48 base classes
            (the released ``instances_train2017_seen_2_65_cat.json``);
            ``'val'`` keeps the annotations of all 65 classes (the released
            ``instances_val2017_all_2.json``).

    Returns:
        A new dict with the 65 OV-COCO categories (in the order of the
        input's ``categories``, with their original ids), all images and the
        kept annotations. Other top-level keys (``info``, ``licenses``) are
        copied.

    Raises:
        ValueError: ``split`` is not ``'train'`` or ``'val'``, the dict is not
            COCO-like, or one of the 65 class names is not among its
            categories (the message names the missing classes).
    """
    if split not in OV_COCO_FILES:
        raise ValueError(f"split must be 'train' or 'val', got {split!r}")
    _check_coco_like(instances)
    # the 48 + 17 names are constants: no need to import mmdet for 'coco65'
    base = get_class_names('coco48')
    ov_names = base + get_class_names('coco17')
    name_to_id = {c['name']: c['id'] for c in instances['categories']}
    missing = [n for n in ov_names if n not in name_to_id]
    if missing:
        raise ValueError('the OV-COCO classes ' +
                         ', '.join(repr(n) for n in missing) +
                         ' are not among the categories of the instances json')
    keep_names = set(ov_names)
    categories = [
        dict(c) for c in instances['categories'] if c['name'] in keep_names
    ]
    if split == 'train':
        ann_ids: Set[int] = {name_to_id[n] for n in base}
    else:
        ann_ids = {c['id'] for c in categories}
    out = _copy_top_level(instances)
    out['images'] = list(instances['images'])
    out['annotations'] = [
        a for a in instances['annotations'] if a['category_id'] in ann_ids
    ]
    out['categories'] = categories
    return out


def build_ov_lvis(instances: dict) -> dict:
    """Build the OV-LVIS training dict: LVIS v1 train without rare classes.

    Args:
        instances: The official ``lvis_v1_train.json`` dict; every category
            needs a ``frequency`` of ``'r'``, ``'c'`` or ``'f'``.

    Returns:
        A new dict with all images and categories, and only the annotations
        of common and frequent categories (the released
        ``lvis_v1_train_seen_1203_cat.json``). Every category's
        ``image_count`` and ``instance_count`` is recomputed from the kept
        annotations, so rare categories get 0; the detector derives its
        class weights from this ``image_count``.

    Raises:
        ValueError: The dict is not COCO-like, or a category has no (or an
            unknown) ``frequency``; the message names the category.
    """
    _check_coco_like(instances)
    rare: Set[int] = set()
    for cat in instances['categories']:
        freq = cat.get('frequency')
        if freq not in _LVIS_FREQUENCIES:
            what = 'no' if freq is None else f'an unknown ({freq!r})'
            raise ValueError(
                f"LVIS category {cat.get('name')!r} (id {cat.get('id')}) has "
                f"{what} 'frequency'; expected one of {_LVIS_FREQUENCIES}")
        if freq == 'r':
            rare.add(cat['id'])
    annotations = [
        a for a in instances['annotations'] if a['category_id'] not in rare
    ]
    images_of: Dict[int, Set[int]] = defaultdict(set)
    instance_count: Dict[int, int] = defaultdict(int)
    for ann in annotations:
        images_of[ann['category_id']].add(ann['image_id'])
        instance_count[ann['category_id']] += 1
    categories: List[dict] = []
    for cat in instances['categories']:
        cat = dict(cat)
        cat['image_count'] = len(images_of.get(cat['id'], ()))
        cat['instance_count'] = instance_count.get(cat['id'], 0)
        categories.append(cat)
    out = _copy_top_level(instances)
    out['images'] = list(instances['images'])
    out['annotations'] = annotations
    out['categories'] = categories
    return out


def summarize_split(d: dict) -> str:
    """One-line summary of a COCO/LVIS-style annotation dict.

    Args:
        d: A dict with ``images``, ``categories`` and ``annotations`` lists.

    Returns:
        E.g. ``'3 images, 65 categories, 2 annotations'``.
    """
    return (f"{len(d.get('images', []))} images, "
            f"{len(d.get('categories', []))} categories, "
            f"{len(d.get('annotations', []))} annotations")
