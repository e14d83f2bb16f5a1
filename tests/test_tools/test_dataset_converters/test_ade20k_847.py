# Copyright (c) mmclipself contributors. All rights reserved.
"""tools/dataset_converters/ade20k_847.py on a tiny ADE20K_2021_17_01 tree.

Real photos (skimage.data) with hand-made ``*_seg.png`` maps whose (R, G)
encode known ADE20K-full class values, some outside the 847-entry table,
and an ``index_ade20k.pkl`` of the release's structure. The converter runs
in a subprocess as a user runs it; its labels are checked against a
per-pixel hand computation (table lookup, 65535, nearest downscale to a
short side of 512), its images against a bilinear resize.
"""
import os.path as osp
import pickle
import subprocess
import sys

import cv2
import numpy as np
import pytest
from PIL import Image

from mmclipself.testing.runs import REPO
from mmclipself.vocab import get_class_names
from mmclipself.vocab.class_names import read_packaged_list

# runs the tool in subprocesses
pytestmark = pytest.mark.slow

TOOL = osp.join(REPO, 'tools', 'dataset_converters', 'ade20k_847.py')
TOP = 'ADE20K_2021_17_01'
#: ADE20K-full values in the table (wall, building, sky, ad, alga, the last
#: class 'adding machine') and outside it (unlabelled 0, 1, 3100, 6655)
IN_TABLE = (2978, 312, 2420, 6, 3156, 3148)
OUTSIDE = (0, 1, 3100, 6655)
#: (file name, index folder below images/ADE, photo, (H, W) or None)
IMAGES = (
    ('ADE_val_00000001.jpg', 'validation/urban/street', 'coffee', (600, 900)),
    ('ADE_val_00000002.jpg', 'validation/home/kitchen', 'chelsea', (700, 530)),
    ('ADE_val_00000003.jpg', 'validation/home/kitchen', 'astronaut', None),
    ('ADE_train_00000001.jpg', 'training/urban/street', 'rocket', None),
)


def _table():
    """ADE20K-full value -> A-847 label, from the packaged table file."""
    ids = [int(v) for v in read_packaged_list('ade847_ade20k_ids')]
    return {v: k for k, v in enumerate(ids)}


def _seg_png(codes, rng):
    """An RGB ``*_seg.png`` array encoding ``codes``.

    R = (code // 256) * 10 + a random 0..9 (the release floors R / 10),
    G = code % 256, B random (unused).
    """
    hi, lo = codes // 256, codes % 256
    r = np.minimum(hi * 10 + rng.integers(0, 10, codes.shape), 255)
    b = rng.integers(0, 256, codes.shape)
    return np.stack([r, lo, b], -1).astype(np.uint8)


def _write_tree(root, rng):
    """Write the fake release; return {file name: (photo, codes)}."""
    import skimage.data
    top = root / TOP
    folders, names, truth = [], [], {}
    all_codes = np.array(IN_TABLE + OUTSIDE)
    for name, folder, photo, size in IMAGES:
        img = getattr(skimage.data, photo)()[..., :3]
        if size is not None:  # a bigger real photo, to test the downscale
            img = np.asarray(Image.fromarray(img).resize(size[::-1]))
        h, w = img.shape[:2]
        if size is None:  # blocks of 32 x 32 pixels
            codes = rng.choice(all_codes, (h // 32 + 1, w // 32 + 1))
            codes = codes.repeat(32, 0).repeat(32, 1)[:h, :w]
        else:  # one value per pixel: the nearest resize is seen exactly
            codes = rng.choice(all_codes, (h, w))
        d = top / 'images' / 'ADE' / folder
        d.mkdir(parents=True, exist_ok=True)
        Image.fromarray(img).save(d / name)
        seg = _seg_png(codes, rng)
        Image.fromarray(seg).save(d / name.replace('.jpg', '_seg.png'))
        folders.append(f'{TOP}/images/ADE/{folder}')
        names.append(name)
        truth[name] = (img, codes)
    index = dict(
        folder=folders,
        filename=names,
        objectnames=['-'] * 3688,
        scene=['x'] * len(names))
    with open(top / 'index_ade20k.pkl', 'wb') as f:
        pickle.dump(index, f)
    return truth


def _run(*args):
    return subprocess.run([sys.executable, TOOL, *map(str, args)],
                          capture_output=True,
                          text=True,
                          cwd=REPO)


@pytest.fixture(scope='module')
def converted(tmp_path_factory):
    root = tmp_path_factory.mktemp('ade')
    truth = _write_tree(root, np.random.default_rng(0))
    out = root / 'out'
    res = _run(root / TOP, '--out-dir', out, '--nproc', 2)
    assert res.returncode == 0, res.stderr[-3000:]
    return truth, out, res.stdout


def _expected_size(h, w):
    """Hand rule of the release: short side 512, long side rounded."""
    if min(h, w) <= 512:
        return h, w
    if h <= w:
        return 512, int(round(w / h * 512))
    return int(round(h / w * 512)), 512


def test_writes_validation_images_only(converted):
    truth, out, stdout = converted
    val = sorted(n for n in truth if '_val_' in n)
    imgs = sorted(
        p.name for p in (out / 'images_detectron2' / 'validation').iterdir())
    labels = sorted(
        p.name
        for p in (out / 'annotations_detectron2' / 'validation').iterdir())
    assert imgs == val
    assert labels == [n.replace('.jpg', '.tif') for n in val]
    assert 'ADE-847: 3 validation images' in stdout
    assert not (out / 'images_detectron2' / 'training').exists()


@pytest.mark.parametrize('name', [n for n, *_ in IMAGES if '_val_' in n])
def test_labels_equal_hand_computation(converted, name):
    truth, out, _ = converted
    img, codes = truth[name]
    path = out / 'annotations_detectron2' / 'validation' / name.replace(
        '.jpg', '.tif')
    label = np.asarray(Image.open(path))
    assert label.dtype == np.uint16
    # OpenCV (what a loader uses with flag 'unchanged') reads 16 bits too
    assert (cv2.imread(str(path), cv2.IMREAD_UNCHANGED) == label).all()
    H, W = codes.shape
    h, w = _expected_size(H, W)
    assert label.shape == (h, w)
    # nearest: output pixel (y, x) takes source pixel floor(y * H / h) ...
    ys = np.minimum((np.arange(h) * (H / h)).astype(int), H - 1)
    xs = np.minimum((np.arange(w) * (W / w)).astype(int), W - 1)
    table = _table()
    expected = np.array([[table.get(int(codes[y, x]), 65535) for x in xs]
                         for y in ys])
    assert (label == expected).all()
    # every code of the test occurs; values outside the table -> 65535
    assert set(np.unique(label)) == ({table[c] for c in IN_TABLE} | {65535})


def test_known_classes_of_the_table():
    table = _table()
    names = get_class_names('ade847')
    assert names[table[2978]] == 'wall'
    assert names[table[312]] == 'building, edifice'
    assert names[table[3148]] == 'adding machine, totalizer, totaliser'
    assert all(c not in table for c in OUTSIDE)


@pytest.mark.parametrize('name', [n for n, *_ in IMAGES if '_val_' in n])
def test_images_are_bilinear_downscales(converted, name):
    truth, out, _ = converted
    src = np.asarray(
        Image.open(
            osp.join(out.parent, TOP, 'images', 'ADE',
                     dict((n, f) for n, f, *_ in IMAGES)[name], name)))
    got = np.asarray(
        Image.open(out / 'images_detectron2' / 'validation' / name))
    h, w = _expected_size(*src.shape[:2])
    assert got.shape == (h, w, 3) and got.dtype == np.uint8
    ref = cv2.resize(src, (w, h), interpolation=cv2.INTER_LINEAR)
    diff = np.abs(got.astype(float) - ref).mean()
    assert diff < 3.0  # JPEG re-encoding only
    if (h, w) != src.shape[:2]:  # and not a nearest resize
        near = cv2.resize(src, (w, h), interpolation=cv2.INTER_NEAREST)
        assert np.abs(got.astype(float) - near).mean() > diff


def test_missing_index_file_fails_with_one_line(tmp_path):
    (tmp_path / TOP).mkdir()
    res = _run(tmp_path / TOP, '--out-dir', tmp_path / 'out')
    assert res.returncode != 0
    assert res.stderr.strip().splitlines() == [
        f'error: ADE20K index not found: {tmp_path / TOP}/index_ade20k.pkl '
        '(extract ADE20K_2021_17_01.zip and pass its folder)'
    ]
    assert not (tmp_path / 'out').exists()


def test_missing_folder_fails_with_one_line(tmp_path):
    res = _run(tmp_path / 'nowhere')
    assert res.returncode != 0
    assert res.stderr.strip() == (
        f'error: ADE20K folder not found: {tmp_path / "nowhere"}')


def test_missing_listed_image_is_named(tmp_path):
    top = tmp_path / TOP
    top.mkdir()
    with open(top / 'index_ade20k.pkl', 'wb') as f:
        pickle.dump(
            dict(
                folder=[f'{TOP}/images/ADE/validation/a'],
                filename=['ADE_val_00000009.jpg']), f)
    res = _run(top)
    assert res.returncode != 0
    assert res.stderr.strip() == (
        f'error: image listed in {top}/index_ade20k.pkl not found: '
        f'{top}/images/ADE/validation/a/ADE_val_00000009.jpg')
