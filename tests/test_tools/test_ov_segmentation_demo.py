# Copyright (c) mmclipself contributors. All rights reserved.
"""demo/ov_segmentation_demo.py on a real photo with a tiny Cat-Seg."""
import importlib.util
import os.path as osp
import subprocess
import sys

import mmcv
import numpy as np
import pytest
import skimage.data
import torch
from mmengine.registry import DefaultScope

from mmclipself.registry import MODELS
from mmclipself.testing.catseg import tiny_catseg_config

REPO = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))
DEMO = osp.join(REPO, 'demo', 'ov_segmentation_demo.py')


@pytest.fixture(scope='module')
def tiny(tmp_path_factory):
    d = tmp_path_factory.mktemp('ov_seg_demo')
    cfg = tiny_catseg_config()
    cfg.dump(str(d / 'tiny_catseg.py'))
    torch.manual_seed(0)
    with DefaultScope.overwrite_default_scope('mmseg'):
        model = MODELS.build(cfg.model)
    model.init_weights()
    torch.save({'state_dict': model.state_dict()}, d / 'catseg.pth')
    mmcv.imwrite(skimage.data.chelsea()[..., ::-1], str(d / 'chelsea.jpg'))
    return d


def _demo_main(argv):
    spec = importlib.util.spec_from_file_location('ov_segmentation_demo', DEMO)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    module.main(argv)


def _run(args):
    res = subprocess.run(
        [sys.executable, DEMO] + args,
        capture_output=True,
        text=True,
        timeout=300)
    assert res.returncode == 0, res.stderr[-3000:]
    return res


def _shares(stdout, names):
    shares = {}
    for line in stdout.splitlines():
        name, _, share = line.rpartition(' ')
        if name.strip() in names and share.endswith('%'):
            shares[name.strip()] = float(share[:-1])
    return shares


@pytest.mark.slow  # the demo in subprocesses
@pytest.mark.parametrize('checkpoint', [False, True])
def test_demo_draws_free_text_classes_on_a_photo(tiny, checkpoint):
    out_dir = tiny / f'out_{checkpoint}'
    args = [
        str(tiny / 'chelsea.jpg'),
        str(tiny / 'tiny_catseg.py'), '--texts', 'cat. sofa, couch. wall',
        '--out-dir',
        str(out_dir), '--device', 'cpu'
    ]
    if checkpoint:
        args += ['--checkpoint', str(tiny / 'catseg.pth')]
    res = _run(args)
    assert ('no --checkpoint' in res.stderr) != checkpoint
    assert 'vocabulary: 3 classes' in res.stdout
    drawn = out_dir / 'vis' / 'chelsea.jpg'
    assert f'saved {drawn}' in res.stdout
    image = mmcv.imread(str(drawn))
    assert image.shape == skimage.data.chelsea().shape
    # the printed shares are those of the saved label map
    labels = mmcv.imread(
        str(out_dir / 'pred' / '00000000_pred.png'), 'unchanged')
    assert labels.shape == image.shape[:2] and labels.max() < 3
    names = ['cat', 'sofa, couch', 'wall']
    counts = np.bincount(labels.ravel(), minlength=3) / labels.size
    expected = {n: 100 * c for n, c in zip(names, counts) if c > 0}
    shares = _shares(res.stdout, names)
    assert shares.keys() == expected.keys()
    for name, share in shares.items():
        assert share == pytest.approx(expected[name], abs=0.006)


@pytest.mark.parametrize('make, message', [
    (None, 'image not found'),
    ('', 'image file is empty'),
    ('not a jpeg', 'cannot decode image'),
])
def test_demo_names_a_bad_image(tiny, make, message):
    image = tiny / f'bad_{len(make) if make is not None else "none"}.jpg'
    if make is not None:
        image.write_text(make)
    with pytest.raises(SystemExit) as e:
        _demo_main([str(image), str(tiny / 'tiny_catseg.py')])
    assert message in str(e.value) and str(image) in str(e.value)


def test_demo_names_bad_texts_config_and_checkpoint(tiny):
    photo, config = str(tiny / 'chelsea.jpg'), str(tiny / 'tiny_catseg.py')
    with pytest.raises(SystemExit, match='class list is empty'):
        _demo_main([photo, config, '--texts', ' , '])
    with pytest.raises(SystemExit, match='at least 2'):
        _demo_main([photo, config, '--texts', 'cat', '--device', 'cpu'])
    with pytest.raises(SystemExit, match='checkpoint not found: .*nope.pth'):
        _demo_main([photo, config, '--checkpoint', str(tiny / 'nope.pth')])
    with pytest.raises(SystemExit, match='config not found: .*nope.py'):
        _demo_main([photo, str(tiny / 'nope.py')])
