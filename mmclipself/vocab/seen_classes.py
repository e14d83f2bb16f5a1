# Copyright (c) mmclipself contributors. All rights reserved.
"""Which test classes the model saw in training (seen vs unseen).

Follows ODISE / FC-CLIP's ``category_overlapping_mask`` (segmentation facts
§1.4): a test class is *seen* if any of its comma-separated synonyms is
among all synonyms of the training classes. The geometric ensemble gives
seen and unseen classes different CLIP exponents (alpha, beta).

Names are compared after the package's clean-up rules
(:mod:`.name_rules`), so COCO panoptic's ``wall-other-merged`` (rule
``'panoptic'``) matches ADE's ``wall``; cleaning also lower-cases and
collapses whitespace. ODISE and FC-CLIP compare OpenSeg's hand-edited
synonym lists instead (``*_with_prompt_eng.txt``), which add synonyms to the
COCO names: with those, ADE-150 has 64 seen / 86 unseen classes; with the
MMDetection/MMSegmentation names used here the count differs (see
``tests/test_vocab/test_seen_classes.py``).
"""
from typing import List, Optional, Sequence, Set, Tuple, Union

import torch

from .class_names import get_class_names, list_vocabularies, split_synonyms
from .name_rules import clean_name, default_rule

#: A class list, or a key of :func:`~mmclipself.vocab.get_class_names`.
ClassesType = Union[str, Sequence[str]]


def _resolve(classes: ClassesType, rule: Optional[str],
             what: str) -> Tuple[List[str], str]:
    """Class names and their clean-up rule (a key brings its default)."""
    if isinstance(classes, str):
        names = list(get_class_names(classes))
        return names, rule or default_rule(classes)
    names = list(classes)
    if not names:
        raise ValueError(f'seen_class_mask: the {what} class list is empty')
    if rule is None:
        # a list without its rule (e.g. a vocabulary file without
        # provenance): the rule of the known vocabulary it equals, if any
        # (COCO panoptic's 'wall-other-merged' is 'wall' only under its own)
        ruled = [
            k for k in list_vocabularies() if default_rule(k) != 'release'
        ]
        rule = next(
            (default_rule(k)
             for k in ruled if tuple(names) == tuple(get_class_names(k))),
            'release')
    return names, rule


def class_synonyms(name: str, rule: str = 'release') -> List[str]:
    """The cleaned synonyms of one class name.

    Args:
        name: A class name, possibly with comma-separated synonyms
            (``'road, route'``).
        rule: Clean-up rule (:data:`~mmclipself.vocab.CLEAN_RULES`).

    Returns:
        The cleaned synonyms in order, e.g. ``'wall-other-merged'`` under
        ``'panoptic'`` -> ``['wall']``.

    Raises:
        ValueError: A synonym is empty before or after clean-up.
    """
    synonyms = [clean_name(s, rule) for s in split_synonyms(name)]
    if not all(synonyms):
        raise ValueError(f'class name {name!r} has a synonym that is empty '
                         f'after the {rule!r} clean-up')
    return synonyms


def _all_synonyms(names: Sequence[str], rule: str) -> Set[str]:
    return {s for n in names for s in class_synonyms(n, rule)}


def seen_class_mask(test_classes: ClassesType,
                    train_classes: ClassesType,
                    test_rule: Optional[str] = None,
                    train_rule: Optional[str] = None) -> torch.Tensor:
    """Which test classes are in the training vocabulary.

    Follows segmentation facts §1.4 (ODISE / FC-CLIP
    ``category_overlapping_mask``): test class ``i`` is seen if any of its
    synonyms equals any synonym of any training class, after clean-up.

    Args:
        test_classes: The test vocabulary: names in classifier order, or a
            benchmark key (``'ade20k_panoptic'``).
        train_classes: The training vocabulary, the same way
            (``'coco_panoptic'``).
        test_rule: Clean-up rule of the test names. Default: the key's
            rule (:func:`~mmclipself.vocab.default_rule`), ``'release'``
            for a list.
        train_rule: The same for the training names (a ``'coco_panoptic'``
            key brings ``'panoptic'``: ``tree-merged`` -> ``tree``).

    Returns:
        A ``(len(test_classes),)`` bool tensor, True for seen classes.

    Raises:
        ValueError: An empty class list, an empty synonym or an unknown
            rule.
        KeyError: An unknown benchmark key.
    """
    test, test_rule = _resolve(test_classes, test_rule, 'test')
    train, train_rule = _resolve(train_classes, train_rule, 'training')
    known = _all_synonyms(train, train_rule)
    seen = [not known.isdisjoint(class_synonyms(n, test_rule)) for n in test]
    return torch.tensor(seen, dtype=torch.bool)
