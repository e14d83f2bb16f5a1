# Copyright (c) mmclipself contributors. All rights reserved.
"""demo/ov_panoptic_demo.py on a real photo with a tiny OVMask2Former."""
import importlib.util
import json
import os
import os.path as osp
import subprocess
import sys

import mmcv
import numpy as np
import pytest
import skimage.data
from panopticapi.utils import rgb2id

from mmclipself.testing.maskcls_flow import TEXT_MODEL, write_tiny_flow

REPO = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))
DEMO = osp.join(REPO, 'demo', 'ov_panoptic_demo.py')


@pytest.fixture(scope='module')
def tiny(tmp_path_factory):
    return write_tiny_flow(tmp_path_factory.mktemp('ov_panoptic_demo'))


def _demo_main(argv):
    spec = importlib.util.spec_from_file_location('ov_panoptic_demo', DEMO)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    module.main(argv)


def _segment_lines(stdout):
    lines = {}
    for line in stdout.splitlines():
        parts = line.rsplit(maxsplit=2)
        if len(parts) == 3 and parts[1] in ('thing', 'stuff') \
                and parts[2].endswith('%'):
            lines.setdefault(parts[0], []).append(
                (parts[1], float(parts[2][:-1])))
    return lines


@pytest.mark.slow  # the demo in subprocesses
@pytest.mark.parametrize('checkpoint', [False, True])
def test_demo_draws_free_text_panoptic_on_a_photo(tiny, checkpoint):
    out_dir = tiny['dir'] / f'out_{checkpoint}'
    args = [
        sys.executable, DEMO, tiny['photo'], tiny['config'], '--texts', 'cat',
        '--stuff-texts', 'wall. grass, lawn', '--text-model', TEXT_MODEL,
        '--text-model-config', tiny['text_cfg'], '--out-dir',
        str(out_dir), '--device', 'cpu'
    ]
    if checkpoint:
        args += ['--checkpoint', tiny['checkpoint']]
    res = subprocess.run(
        args,
        capture_output=True,
        text=True,
        timeout=300,
        env=dict(os.environ, MMCLIPSELF_CACHE=str(tiny['dir'] / 'cache')))
    assert res.returncode == 0, res.stderr[-3000:]
    assert ('no --checkpoint' in res.stderr) != checkpoint
    assert 'vocabulary: 3 classes (1 things, 2 stuff)' in res.stdout
    drawn = out_dir / 'vis' / 'chelsea.png'
    assert f'saved {drawn}' in res.stdout
    rgb = skimage.data.chelsea()
    image = mmcv.imread(str(drawn))
    assert image.shape == rgb.shape
    # the printed segments are those of the saved panoptic map
    saved = json.loads((out_dir / 'preds' / 'chelsea.json').read_text())
    ids = rgb2id(mmcv.imread(saved['panoptic_seg_path'], channel_order='rgb'))
    assert ids.shape == rgb.shape[:2]
    names = ('cat', 'wall', 'grass, lawn')
    expected = {}
    for seg_id in np.unique(ids[ids > 0]):
        label = int(seg_id) % 1000
        assert label < 3
        kind = 'thing' if label == 0 else 'stuff'
        expected.setdefault(names[label], []).append(
            (kind, 100 * (ids == seg_id).mean()))
    printed = _segment_lines(res.stdout)
    if checkpoint:  # the tuned checkpoint recognises something
        assert printed
    assert printed.keys() == expected.keys()
    for name, segs in printed.items():
        assert sorted(k for k, _ in segs) == sorted(k
                                                    for k, _ in expected[name])
        np.testing.assert_allclose(
            sorted(s for _, s in segs),
            sorted(s for _, s in expected[name]),
            atol=0.006)


def test_demo_names_bad_inputs(tiny, tmp_path):
    photo, config = tiny['photo'], tiny['config']
    with pytest.raises(SystemExit, match='image not found'):
        _demo_main([str(tmp_path / 'nope.jpg'), config])
    with pytest.raises(SystemExit, match='class list is empty'):
        _demo_main([photo, config, '--stuff-texts', ' , '])
    with pytest.raises(SystemExit, match='config not found: .*nope.py'):
        _demo_main([photo, str(tmp_path / 'nope.py')])
    with pytest.raises(SystemExit, match='checkpoint not found: .*nope.pth'):
        _demo_main([
            photo, config, '--checkpoint',
            str(tmp_path / 'nope.pth'), '--device', 'cpu'
        ])
