# Copyright (c) mmclipself contributors. All rights reserved.
"""tools/dataset_converters/pascal_context_459.py on a tiny VOC2010 tree.

``trainval/<id>.mat`` files written with ``scipy.io.savemat`` (a uint16
and a double ``LabelMap``, values 1..459), a validation list with an id
that has no ``.mat`` (skipped, as the release) and real photos as
``JPEGImages``. The converter runs in a subprocess as a user runs it; its
labels are checked against ``LabelMap - 1`` computed pixel by pixel.
"""
import os.path as osp
import subprocess
import sys

import cv2
import numpy as np
import pytest
from PIL import Image
from scipy.io import savemat

from mmclipself.testing.runs import REPO
from mmclipself.vocab import get_class_names

# runs the tool in subprocesses
pytestmark = pytest.mark.slow

TOOL = osp.join(REPO, 'tools', 'dataset_converters', 'pascal_context_459.py')
#: id -> (photo, LabelMap dtype); 2008_000003 has no photo in JPEGImages
IDS = {
    '2008_000002': ('chelsea', np.uint16),
    '2008_000003': ('coffee', np.float64),
    '2008_000007': ('astronaut', np.uint16),
}


def _write_tree(root, rng, val_ids):
    import skimage.data
    (root / 'trainval').mkdir(parents=True)
    (root / 'JPEGImages').mkdir()
    maps = {}
    for img_id, (photo, dtype) in IDS.items():
        img = getattr(skimage.data, photo)()[..., :3]
        h, w = img.shape[:2]
        # blocks of 25 x 25 pixels; 1, 431 ('unknown') and 459 always occur
        blocks = rng.integers(1, 460, (h // 25 + 1, w // 25 + 1))
        blocks.ravel()[:3] = (1, 431, 459)
        label_map = blocks.repeat(25, 0).repeat(25, 1)[:h, :w]
        savemat(root / 'trainval' / f'{img_id}.mat',
                dict(LabelMap=label_map.astype(dtype)))
        if img_id != '2008_000003':
            Image.fromarray(img).save(root / 'JPEGImages' / f'{img_id}.jpg')
        maps[img_id] = label_map
    (root / 'pascalcontext_val.txt').write_text('\n'.join(val_ids) + '\n')
    return maps


def _run(*args):
    return subprocess.run([sys.executable, TOOL, *map(str, args)],
                          capture_output=True,
                          text=True,
                          cwd=REPO)


@pytest.fixture(scope='module')
def converted(tmp_path_factory):
    root = tmp_path_factory.mktemp('voc') / 'VOC2010'
    maps = _write_tree(root, np.random.default_rng(0), [*IDS, '2008_000009'])
    res = _run(root, '--nproc', 2)
    assert res.returncode == 0, res.stderr[-3000:]
    return root, maps, res.stdout


def test_writes_one_label_per_id_with_a_mat(converted):
    root, maps, stdout = converted
    out = root / 'annotations_detectron2' / 'pc459_val'
    assert sorted(p.name
                  for p in out.iterdir()) == [f'{i}.tif' for i in sorted(IDS)]
    summary = stdout.strip().splitlines()[-1]
    assert summary == (
        f'PC-459: 3 validation labels -> {out}; 1 listed ids have no .mat '
        'file, skipped (first: 2008_000009); 1 have no image in '
        f'{root}/JPEGImages (first: 2008_000003.jpg)')


@pytest.mark.parametrize('img_id', sorted(IDS))
def test_labels_equal_label_map_minus_one(converted, img_id):
    root, maps, _ = converted
    path = root / 'annotations_detectron2' / 'pc459_val' / f'{img_id}.tif'
    label = np.asarray(Image.open(path))
    assert label.dtype == np.uint16
    assert (cv2.imread(str(path), cv2.IMREAD_UNCHANGED) == label).all()
    src = maps[img_id]
    assert label.shape == src.shape
    expected = [[int(v) - 1 for v in row] for row in src.tolist()]
    assert label.tolist() == expected
    assert label.min() == 0 and label.max() == 458  # never 459 (ignore)
    names = get_class_names('pc459')
    assert names[label[0, 25]] == 'unknown'  # LabelMap 431


def test_missing_val_list_fails_with_one_line(tmp_path):
    (tmp_path / 'trainval').mkdir()
    res = _run(tmp_path)
    assert res.returncode != 0
    assert res.stderr.strip().splitlines() == [
        f'error: validation list not found: {tmp_path}/'
        'pascalcontext_val.txt (download datasets/pascalcontext_val.txt of '
        'Cat-Seg (github.com/cvlab-kaist/CAT-Seg) into the VOC2010 folder, '
        'or pass --val-list)'
    ]


def test_missing_annotation_folder_fails_with_one_line(tmp_path):
    res = _run(tmp_path, '--val-list', tmp_path / 'ids.txt')
    assert res.returncode != 0
    assert res.stderr.strip() == (
        'error: PASCAL-Context annotation folder not found: '
        f'{tmp_path}/trainval (extract trainval.tar.gz into the VOC2010 '
        'folder)')


def test_label_zero_is_an_error_naming_the_file(tmp_path):
    (tmp_path / 'trainval').mkdir()
    label_map = np.full((4, 5), 7, np.uint16)
    label_map[2, 3] = 0
    savemat(tmp_path / 'trainval' / 'x.mat', dict(LabelMap=label_map))
    (tmp_path / 'ids.txt').write_text('x\n')
    res = _run(tmp_path, '--val-list', tmp_path / 'ids.txt')
    assert res.returncode != 0
    assert res.stderr.strip() == (
        f'error: {tmp_path}/trainval/x.mat: LabelMap value 0 outside 1..459')
    assert not (tmp_path / 'annotations_detectron2' / 'pc459_val' /
                'x.tif').exists()
