# Copyright (c) mmclipself contributors. All rights reserved.
"""Checks that a vocabulary fits the data it scores."""
from typing import Optional, Sequence


def _first_mismatch(expected: Sequence[str],
                    got: Sequence[str]) -> Optional[int]:
    """Index of the first position where two class lists differ."""
    for i, (a, b) in enumerate(zip(expected, got)):
        if a != b:
            return i
    if len(expected) != len(got):
        return min(len(expected), len(got))
    return None


def check_class_order(classes: Sequence[str], vocabulary: Sequence[str],
                      where: str, source: str) -> None:
    """Raise if a dataset's classes are not the vocabulary, in order.

    Args:
        classes: The dataset's ``metainfo['classes']`` (what labels index).
        vocabulary: The model's class names.
        where: The dataset's config key, e.g. ``'val_dataloader.dataset'``.
        source: The vocabulary's module and file, for the message.

    Raises:
        ValueError: Naming the first mismatch (index, expected, got) and
            both sizes.
    """
    classes, vocabulary = list(classes), list(vocabulary)
    i = _first_mismatch(classes, vocabulary)
    if i is None:
        return
    expected = repr(classes[i]) if i < len(classes) else '(no class)'
    got = repr(vocabulary[i]) if i < len(vocabulary) else '(no class)'
    raise ValueError(
        f'{where}: the dataset\'s classes are not the model\'s vocabulary '
        f'({source}): first mismatch at index {i}: expected {expected} '
        f'(dataset), got {got} (vocabulary); {len(classes)} dataset '
        f'classes, {len(vocabulary)} vocabulary classes. Labels index the '
        'vocabulary by position: encode this dataset\'s classes in its '
        'order (tools/generate_text_embeddings.py) or set the config\'s '
        'vocabulary file for this dataset')
