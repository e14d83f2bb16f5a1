# Copyright (c) mmclipself contributors. All rights reserved.
"""Which vocabulary classes are base (trained on) and which are novel."""
import json
import logging
import os.path as osp
from typing import List, Optional, Sequence, Union

from mmengine.logging import print_log

from mmclipself.datasets.class_names import get_class_names, list_vocabularies

BaseClassSpec = Optional[Union[str, Sequence[str]]]


def _from_json(path: str) -> List[str]:
    """Base classes of an LVIS/COCO-style json: categories with images.

    Follows the CLIPSelf release for OV-LVIS: a category is base when its
    ``image_count`` in the base-only training json is positive (the rare
    categories have none once ``tools/dataset_converters/build_ov_lvis.py``
    removed their annotations). Without ``image_count`` every listed
    category is base.
    """
    with open(path) as f:
        cats = json.load(f).get('categories')
    if not cats:
        raise ValueError(f'{path} has no "categories" to read base classes '
                         'from')
    return [
        c['name'] for c in cats
        if 'image_count' not in c or c['image_count'] > 0
    ]


def resolve_base_classes(spec: BaseClassSpec,
                         vocabulary: Sequence[str]) -> List[bool]:
    """One flag per vocabulary class: ``True`` if it is a base class.

    Args:
        spec: ``None`` (all classes are base, e.g. transfer tests), a
            vocabulary key of :func:`get_class_names` (``'coco48'``), a
            json file (categories with ``image_count > 0`` are base) or a
            list of class names.
        vocabulary: The classifier's class names.

    Returns:
        A list of ``len(vocabulary)`` flags.

    Raises:
        FileNotFoundError: ``spec`` looks like a file that does not exist.
        ValueError: No base class is in the vocabulary (names that are
            missing from it are ignored with a warning).
    """
    if spec is None:
        return [True] * len(vocabulary)
    if isinstance(spec, str):
        if spec.endswith('.json'):
            if not osp.isfile(spec):
                raise FileNotFoundError(f'base class file not found: {spec}')
            names = _from_json(spec)
        elif spec in list_vocabularies():
            names = list(get_class_names(spec))
        else:
            raise ValueError(
                f'base_classes={spec!r} is neither a .json file nor one of '
                f'{list_vocabularies()}')
    else:
        names = list(spec)
    base = set(names)
    unknown = sorted(base - set(vocabulary))
    if unknown and len(unknown) == len(base):
        raise ValueError(
            f'none of the {len(base)} base classes is in the vocabulary '
            f'(e.g. {unknown[:5]}): do the names match the embedding file?')
    if unknown:
        # a test vocabulary may hold only some of the training classes
        more = ' ...' if len(unknown) > 10 else ''
        print_log(
            f'{len(unknown)} base classes are not in the vocabulary and '
            f'are ignored: {unknown[:10]}{more}',
            logger='current',
            level=logging.WARNING)
    return [name in base for name in vocabulary]
