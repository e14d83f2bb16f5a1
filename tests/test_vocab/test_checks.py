# Copyright (c) mmclipself contributors. All rights reserved.
"""A dataset's classes must be the vocabulary, in order."""
import pytest

from mmclipself.vocab import check_class_order, get_class_names


def test_a_swapped_pair_is_named():
    names = list(get_class_names('coco65'))
    names[40], names[41] = names[41], names[40]
    with pytest.raises(ValueError) as e:
        check_class_order(
            get_class_names('coco65'), names, 'val_dataloader.dataset',
            'vocab.pt')
    assert (f'index 40: expected {names[41]!r} (dataset), got '
            f'{names[40]!r}') in str(e.value)
    check_class_order(names, names, 'x', 'y')  # equal: no error


def test_a_shorter_vocabulary_is_named_at_its_end():
    classes = ['cat', 'dog', 'cup']
    with pytest.raises(
            ValueError,
            match=r"index 2: expected 'cup' "
            r'\(dataset\), got \(no class\)'):
        check_class_order(classes, classes[:2], 'train_dataloader', 'v.pt')
