# Copyright (c) mmclipself contributors. All rights reserved.
"""Which vocabulary classes are base (trained on) and which are novel.

For OV-LVIS the base classes are read from a small category-only file
written next to the training json by
``tools/dataset_converters/build_ov_lvis.py``
(``lvis_v1_train_seen_1203_cat_categories.json``), so that building a model
never parses the ~1 GB training json. Reading the training json itself
still works (same ``categories`` entry).
"""
import json
import logging
import os.path as osp
from typing import List, Optional, Sequence, Union

from mmengine.logging import print_log

from .class_names import get_class_names, list_vocabularies

BaseClassSpec = Optional[Union[str, Sequence[str]]]

#: Suffix of the category-only file next to an OV training json.
CATEGORIES_SUFFIX = '_categories.json'
_CATEGORY_KEYS = ('id', 'name', 'frequency', 'image_count', 'instance_count',
                  'synonyms')


def categories_file(annotation_file: str) -> str:
    """The category-only file of a training json.

    ``.../x.json`` -> ``.../x_categories.json``.
    """
    root, _ = osp.splitext(annotation_file)
    return root + CATEGORIES_SUFFIX


def category_only(annotations: dict) -> dict:
    """The ``categories`` of a COCO/LVIS-style dict, without the rest.

    Keeps ``id``, ``name``, ``frequency``, ``image_count``,
    ``instance_count`` and ``synonyms`` where present: what
    :func:`resolve_base_classes` reads, a few hundred KB for LVIS.

    Raises:
        ValueError: No ``categories``.
    """
    cats = annotations.get('categories') if isinstance(annotations,
                                                       dict) else None
    if not cats:
        raise ValueError('the annotations have no "categories"')
    return dict(categories=[{
        k: c[k]
        for k in _CATEGORY_KEYS if k in c
    } for c in cats])


def _from_json(path: str) -> List[str]:
    """Base classes of a json file.

    The file is a COCO/LVIS-style dict (a training json or its category-only
    file): follows the CLIPSelf release for OV-LVIS, a category is base when
    its ``image_count`` in the base-only training json is positive (rare
    categories have none once ``build_ov_lvis.py`` removed their
    annotations); without ``image_count`` every listed category is base.
    A json list of names is taken as the base names.
    """
    with open(path) as f:
        data = json.load(f)
    if isinstance(data, list) and all(isinstance(n, str) for n in data):
        if not data:
            raise ValueError(f'{path} lists no base class')
        return data
    cats = data.get('categories') if isinstance(data, dict) else None
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
            json file (a category-only file or a training json: categories
            with ``image_count > 0`` are base; or a list of names) or a
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
                raise FileNotFoundError(
                    f'base class file not found: {spec} (write it with '
                    'tools/dataset_converters/build_ov_lvis.py; from an '
                    'existing base-only training json, add '
                    '--categories-only)')
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
