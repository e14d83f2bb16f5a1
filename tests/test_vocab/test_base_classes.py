# Copyright (c) mmclipself contributors. All rights reserved.
import importlib.util
import json
import os.path as osp

import pytest

from mmclipself.testing.detection import write_tiny_lvis
from mmclipself.testing.fvit import REPO
from mmclipself.vocab import (categories_file, category_only, get_class_names,
                              resolve_base_classes)


def _tool():
    path = osp.join(REPO, 'tools', 'dataset_converters', 'build_ov_lvis.py')
    spec = importlib.util.spec_from_file_location('build_ov_lvis', path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_category_only_file_gives_the_flags_of_the_training_json(tmp_path):
    lvis = write_tiny_lvis(
        tmp_path / 'lvis', split='train', all_categories=True)
    out = str(tmp_path / 'ov' / 'lvis_v1_train_seen_1203_cat.json')
    tool = _tool()
    assert tool.main(['--instances', lvis['ann_file'], '--out', out]) == out
    cats = categories_file(out)
    assert cats == str(tmp_path / 'ov' /
                       'lvis_v1_train_seen_1203_cat_categories.json')
    with open(cats) as f:
        small = json.load(f)
    assert list(small) == ['categories'] and len(small['categories']) == 1203
    assert osp.getsize(cats) < osp.getsize(out)
    vocab = list(get_class_names('lvis'))
    full = resolve_base_classes(out, vocab)
    assert resolve_base_classes(cats, vocab) == full
    # rare categories lost their images; the tiny set annotates cat (rare),
    # cup, saucer (common), person, spoon (frequent); other names none
    assert [n for n, b in zip(vocab, full) if b] == [
        n for n in vocab if n in ('cup', 'saucer', 'person', 'spoon')
    ]
    # --categories-only rewrites it from an existing training file
    other = str(tmp_path / 'again.json')
    assert tool.main(
        ['--out', out, '--categories-only', '--categories-out',
         other]) == other
    with open(other) as f:
        assert json.load(f) == small


def test_category_only_keeps_what_base_classes_need():
    ann = dict(
        images=[dict(id=1)],
        annotations=[dict(id=1)],
        categories=[
            dict(
                id=1,
                name='cat',
                frequency='r',
                image_count=0,
                instance_count=0,
                synset='cat.n.01',
                def_='x'),
        ])
    assert category_only(ann) == dict(categories=[
        dict(id=1, name='cat', frequency='r', image_count=0, instance_count=0)
    ])
    with pytest.raises(ValueError, match='no "categories"'):
        category_only(dict(images=[]))


def test_base_classes_from_a_list_of_names(tmp_path):
    path = tmp_path / 'base.json'
    path.write_text(json.dumps(['person', 'cup']))
    assert resolve_base_classes(
        str(path), ['cup', 'cat', 'person']) == [True, False, True]
    (tmp_path / 'none.json').write_text('{}')
    with pytest.raises(ValueError, match='none.json has no "categories"'):
        resolve_base_classes(str(tmp_path / 'none.json'), ['cat'])
    with pytest.raises(FileNotFoundError, match='build_ov_lvis'):
        resolve_base_classes(str(tmp_path / 'missing.json'), ['cat'])
