# Copyright (c) mmclipself contributors. All rights reserved.
"""``OVLVISV1Dataset``: the annotation file's categories are the classes.

MMDetection's ``LVISV1Dataset`` numbers the categories of any file and
never compares them with its classes: the contrast is asserted, then each
wrong file fails before the first iteration naming the file and the first
difference.
"""
import json

import pytest
from mmdet.datasets import LVISV1Dataset

from mmclipself.datasets import OVLVISV1Dataset
from mmclipself.testing.detection import write_tiny_lvis
from mmclipself.vocab import categories_file


def _build(cls, info, **kwargs):
    return cls(
        data_root=info['data_root'],
        ann_file=info['ann_file'],
        data_prefix=info['data_prefix'],
        pipeline=[],
        test_mode=True,
        **kwargs)


def _rewrite(info, edit):
    with open(info['ann_file']) as f:
        data = json.load(f)
    edit(data['categories'])
    with open(info['ann_file'], 'w') as f:
        json.dump(data, f)


def test_a_lvis_v1_file_loads_as_mmdetection_does(tmp_path):
    info = write_tiny_lvis(tmp_path, 'val', all_categories=True)
    ours = _build(OVLVISV1Dataset, info)
    theirs = _build(LVISV1Dataset, info)
    assert len(ours) == len(theirs) == 3
    for a, b in zip(ours.data_list, theirs.data_list):
        assert a == b
    assert ours.metainfo == theirs.metainfo


def test_swapped_categories_fail_naming_the_first_difference(tmp_path):
    info = write_tiny_lvis(tmp_path, 'val', all_categories=True)

    def swap(cats):  # names of ids 1 and 2 exchanged
        cats[0]['name'], cats[1]['name'] = cats[1]['name'], cats[0]['name']

    _rewrite(info, swap)
    # MMDetection loads it without a word: labels would be shifted
    assert len(_build(LVISV1Dataset, info)) == 3
    classes = LVISV1Dataset.METAINFO['classes']
    with pytest.raises(ValueError) as e:
        _build(OVLVISV1Dataset, info)
    assert str(e.value).startswith(
        f"{info['ann_file']}: its 1203 categories are not the 1203 classes "
        f"of OVLVISV1Dataset in order: category 0 is {classes[1]!r}, the "
        f'class is {classes[0]!r}')


def test_a_file_with_other_categories_fails(tmp_path):
    # the 5-category file of write_tiny_lvis: a subset, like a LVIS v0.5 or
    # a custom file would be
    info = write_tiny_lvis(tmp_path, 'val', all_categories=False)
    assert len(_build(LVISV1Dataset, info)) == 3
    with pytest.raises(ValueError, match='its 5 categories are not the 1203'):
        _build(OVLVISV1Dataset, info)
    # with the file's names as classes it loads
    ds = _build(OVLVISV1Dataset, info, metainfo=dict(classes=info['classes']))
    assert len(ds) == 3


def test_the_category_only_companion_is_read_when_present(tmp_path):
    info = write_tiny_lvis(tmp_path, 'train', all_categories=True)
    with open(info['ann_file']) as f:
        cats = json.load(f)['categories']
    cats[5]['name'] = 'not_a_lvis_name'
    with open(categories_file(info['ann_file']), 'w') as f:
        json.dump(dict(categories=cats), f)
    # the companion differs from the classes: it is what was read
    with pytest.raises(ValueError, match="category 5 is 'not_a_lvis_name'"):
        _build(OVLVISV1Dataset, info)


def test_missing_files_are_named(tmp_path):
    info = write_tiny_lvis(tmp_path, 'val', all_categories=True)
    info['ann_file'] = str(tmp_path / 'annotations' / 'nope.json')
    with pytest.raises(FileNotFoundError, match='nope.json'):
        _build(OVLVISV1Dataset, info)
