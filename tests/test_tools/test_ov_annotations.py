# Copyright (c) mmclipself contributors. All rights reserved.
"""OV-COCO / OV-LVIS annotation builders and their command-line tools."""
import copy
import json
import subprocess
import sys
from pathlib import Path

import pytest

from mmclipself.datasets import build_ov_coco, build_ov_lvis, summarize_split
from mmclipself.testing.detection import write_tiny_coco, write_tiny_lvis
from mmclipself.vocab import get_class_names

REPO = Path(__file__).resolve().parents[2]
TOOLS = REPO / 'tools' / 'dataset_converters'


@pytest.fixture(scope='module')
def coco(tmp_path_factory):
    info = write_tiny_coco(tmp_path_factory.mktemp('coco'), 'train')
    return info['ann_file'], json.loads(Path(info['ann_file']).read_text())


@pytest.fixture(scope='module')
def lvis(tmp_path_factory):
    info = write_tiny_lvis(tmp_path_factory.mktemp('lvis'), 'train')
    return info['ann_file'], json.loads(Path(info['ann_file']).read_text())


def _names(d, anns=True):
    by_id = {c['id']: c['name'] for c in d['categories']}
    if anns:
        return [by_id[a['category_id']] for a in d['annotations']]
    return [c['name'] for c in d['categories']]


def test_ov_coco_train_keeps_base_annotations_only(coco):
    _, src = coco
    before = copy.deepcopy(src)
    out = build_ov_coco(src, 'train')
    assert src == before  # the input is not modified
    assert _names(src) == ['cat', 'cup', 'spoon', 'person']
    assert _names(out) == ['spoon', 'person']  # cat and cup are novel
    assert _names(out, anns=False) == list(get_class_names('coco65'))
    src_ids = {c['name']: c['id'] for c in src['categories']}
    assert all(c['id'] == src_ids[c['name']] for c in out['categories'])
    assert out['images'] == src['images']
    assert out['info'] == src['info']
    assert summarize_split(out) == '3 images, 65 categories, 2 annotations'


def test_ov_coco_val_keeps_all_65_class_annotations(coco):
    _, src = coco
    src = copy.deepcopy(src)
    # an annotation of a class outside the 65 (COCO id 13: stop sign)
    src['annotations'].append(
        dict(src['annotations'][0], id=99, category_id=13))
    out = build_ov_coco(src, 'val')
    assert _names(out) == ['cat', 'cup', 'spoon', 'person']
    assert 'stop sign' not in _names(out, anns=False)
    assert len(out['categories']) == 65 and len(out['images']) == 3
    # order of the input's categories list is kept
    src['categories'] = src['categories'][::-1]
    rev = build_ov_coco(src, 'val')
    assert _names(rev, anns=False) == list(get_class_names('coco65'))[::-1]


def test_ov_coco_errors(coco):
    _, src = coco
    src = copy.deepcopy(src)
    with pytest.raises(ValueError, match="'train' or 'val'"):
        build_ov_coco(src, 'test')
    src['categories'] = [c for c in src['categories'] if c['name'] != 'cup']
    with pytest.raises(ValueError, match="'cup'"):
        build_ov_coco(src, 'val')


def test_ov_lvis_drops_rare_annotations_and_recounts(lvis):
    _, src = lvis
    src = copy.deepcopy(src)
    for c in src['categories']:  # stale counts must be recomputed
        c['image_count'], c['instance_count'] = 7, 9
    # a second person box on the coffee image: 2 instances in 2 images
    src['annotations'].append(dict(src['annotations'][-1], id=6, image_id=2))
    before = copy.deepcopy(src)
    out = build_ov_lvis(src)
    assert src == before
    assert [c['name'] for c in out['categories']
            ] == ['cat', 'cup', 'person', 'saucer', 'spoon']
    assert 'cat' not in _names(out) and len(out['annotations']) == 5
    counts = {
        c['name']: (c['image_count'], c['instance_count'])
        for c in out['categories']
    }
    assert counts == {
        'cat': (0, 0),
        'cup': (1, 1),
        'person': (2, 2),
        'saucer': (1, 1),
        'spoon': (1, 1)
    }
    assert out['images'] == src['images']


def test_ov_lvis_needs_frequency(lvis):
    _, src = lvis
    src = copy.deepcopy(src)
    del src['categories'][1]['frequency']
    with pytest.raises(ValueError, match="'cup'.*frequency"):
        build_ov_lvis(src)


def _start(tool, *args):
    return subprocess.Popen(
        [sys.executable, str(TOOLS / tool), *args],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        cwd=str(REPO))


def _finish(proc):
    out, err = proc.communicate(timeout=120)
    return proc.returncode, out, err


@pytest.mark.slow  # the tools in subprocesses
def test_cli_tools_write_the_splits(coco, lvis, tmp_path):
    coco_out = tmp_path / 'sub' / 'instances_val2017_all_2.json'
    lvis_out = tmp_path / 'lvis_v1_train_seen_1203_cat.json'
    # both start python + torch: run them side by side to save time
    procs = [
        _start('build_ov_coco.py', '--instances', coco[0], '--split', 'val',
               '--out', str(coco_out)),
        _start('build_ov_lvis.py', '--instances', lvis[0], '--out',
               str(lvis_out))
    ]
    (rc_c, out_c, err_c), (rc_l, out_l, err_l) = map(_finish, procs)
    assert rc_c == 0, err_c
    assert '3 images, 65 categories, 4 annotations' in out_c
    assert json.loads(coco_out.read_text()) == build_ov_coco(coco[1], 'val')
    assert rc_l == 0, err_l
    assert '3 images, 5 categories, 4 annotations' in out_l
    assert json.loads(lvis_out.read_text()) == build_ov_lvis(lvis[1])


@pytest.mark.slow
@pytest.mark.parametrize('tool', ['build_ov_coco.py', 'build_ov_lvis.py'])
def test_cli_tools_name_a_missing_input(tool, tmp_path):
    missing = tmp_path / 'nope.json'
    rc, _, err = _finish(_start(tool, '--instances', str(missing)))
    assert rc != 0
    assert 'FileNotFoundError' in err and str(missing) in err


def _load_tool(name):
    import importlib.util
    spec = importlib.util.spec_from_file_location(name, TOOLS / f'{name}.py')
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_cli_default_paths(coco, lvis, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    (tmp_path / 'data/coco/annotations').mkdir(parents=True)
    (tmp_path / 'data/lvis_v1/annotations').mkdir(parents=True)
    for split in ('train', 'val'):
        (tmp_path /
         f'data/coco/annotations/instances_{split}2017.json').write_text(
             Path(coco[0]).read_text())
    (tmp_path / 'data/lvis_v1/annotations/lvis_v1_train.json').write_text(
        Path(lvis[0]).read_text())
    tool = _load_tool('build_ov_coco')
    assert tool.main(
        ['--split',
         'val']) == ('data/coco/annotations/instances_val2017_all_2.json')
    assert tool.main(
        []) == ('data/coco/annotations/instances_train2017_seen_2_65_cat.json')
    train = json.loads(
        Path('data/coco/annotations/instances_train2017_seen_2_65_cat.json').
        read_text())
    assert _names(train) == ['spoon', 'person']
    tool = _load_tool('build_ov_lvis')
    assert tool.main(
        []) == ('data/lvis_v1/annotations/lvis_v1_train_seen_1203_cat.json')
    assert Path(tool.main([])).is_file()
