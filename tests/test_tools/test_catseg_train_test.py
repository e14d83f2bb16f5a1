# Copyright (c) mmclipself contributors. All rights reserved.
"""Cat-Seg end to end through the user's entry points, on tiny data.

A tiny CVPR'24 Cat-Seg (the shipped training config, shrunk by
:func:`~mmclipself.testing.catseg.tiny_catseg_config`) trains two
iterations on a COCO-Stuff-format set written here from real photos and
hand-made label maps, validates, resumes to a third iteration, and is then
tested with the shipped ADE-847 test config on an ADE-847-format set with
16-bit labels and the 847-class vocabulary: by ``tools/test.py`` and by
MMSegmentation's own test script, which must print the same numbers and
refuse a checkpoint with a renamed key.
"""
import os.path as osp
import re
import subprocess
import sys

import mmseg
import numpy as np
import pytest
import torch

from mmclipself.testing.catseg import tiny_catseg_config
from mmclipself.testing.runs import REPO, train_in_subprocess
from mmclipself.testing.segmentation import write_seg_set

pytestmark = pytest.mark.slow  # the tools run in subprocesses

TRAIN_CONFIG = ('configs/catseg/catseg_openai-vitb16_cvpr_4xb1-80k_'
                'coco-stuff164k-384x384.py')
TEST_CONFIG = 'configs/catseg/catseg_openai-vitb16_cvpr_ade20k-847-640x640.py'
MMSEG_TEST = osp.join(osp.dirname(mmseg.__file__), '.mim', 'tools', 'test.py')


def _labels(seed, values, ignore, dtype, shapes):
    """Blocky label maps of ``values`` with some ``ignore`` pixels."""
    rng = np.random.default_rng(seed)
    out = {}
    for i, (h, w) in enumerate(shapes):
        coarse = rng.choice(values, size=(h // 8, w // 8)).astype(dtype)
        label = np.kron(coarse, np.ones((8, 8), dtype))
        label[:4, :4] = ignore
        out[f'{i:012d}'] = label
    return out


@pytest.fixture(scope='module')
def run(tmp_path_factory):
    tmp = tmp_path_factory.mktemp('catseg_e2e')
    coco = tmp / 'coco_stuff164k'
    shapes = [(64, 96), (80, 64), (72, 72)]
    write_seg_set(coco, 'coco_stuff164k_train',
                  _labels(0, [0, 5, 90, 120, 170], 255, np.uint8, shapes))
    write_seg_set(coco, 'coco_stuff164k',
                  _labels(1, [0, 5, 90, 170], 255, np.uint8, shapes[:2]))
    ade = tmp / 'ade847'
    write_seg_set(ade, 'ade20k_847',
                  _labels(2, [0, 3, 300, 846], 65535, np.uint16, shapes))

    cfg = tiny_catseg_config(TRAIN_CONFIG)
    for key in ('train', 'val', 'test'):
        cfg[f'{key}_dataloader'].dataset.data_root = str(coco)
    cfg.train_cfg.update(max_iters=2, val_interval=2)
    cfg.param_scheduler[0].update(T_max=2, end=2)
    cfg.default_hooks.checkpoint.interval = 1
    cfg.default_hooks.logger.interval = 1
    train_config = str(tmp / 'train.py')
    cfg.dump(train_config)

    cfg = tiny_catseg_config(TEST_CONFIG)
    cfg.test_dataloader.dataset.data_root = str(ade)
    test_config = str(tmp / 'test_ade847.py')
    cfg.dump(test_config)
    work = tmp / 'work'
    res = train_in_subprocess(train_config, work, cwd=str(tmp))
    return dict(
        tmp=tmp,
        train_config=train_config,
        test_config=test_config,
        work=work,
        train=res)


def _metrics(text):
    """The last mIoU / mAcc / aAcc printed by MMEngine's logger."""
    found = re.findall(r'aAcc: ([\d.]+)\s+mIoU: ([\d.]+)\s+mAcc: ([\d.]+)',
                       text)
    assert found, text[-3000:]
    return tuple(float(v) for v in found[-1])


def _run(args, cwd):
    return subprocess.run([sys.executable, *args],
                          cwd=str(cwd),
                          capture_output=True,
                          text=True,
                          timeout=900)


def test_training_validates_and_checkpoints(run):
    res = run['train']
    out = res.stdout + res.stderr
    assert res.returncode == 0, out[-4000:]
    assert 'Iter(train) [2/2]' in out
    assert 'loss_bce' in out
    _metrics(out)  # validation on COCO-Stuff val printed its metrics
    assert (run['work'] / 'iter_1.pth').is_file()
    assert (run['work'] / 'iter_2.pth').is_file()
    # CVPR'24: only q/v weights of the towers train, and they are saved
    state = torch.load(run['work'] / 'iter_2.pth', weights_only=True)
    keys = state['state_dict'].keys()
    assert any(k.startswith('text_encoder.text.') for k in keys)
    assert any(k.startswith('clip_tower.visual.') for k in keys)


def test_resume_continues_the_run(run):
    res = train_in_subprocess(
        run['train_config'],
        run['work'],
        '--resume',
        '--cfg-options',
        'train_cfg.max_iters=3',
        'param_scheduler.0.T_max=3',
        'param_scheduler.0.end=3',
        cwd=str(run['tmp']))
    out = res.stdout + res.stderr
    assert res.returncode == 0, out[-4000:]
    assert 'resumed' in out.lower()
    assert 'Iter(train) [3/3]' in out
    assert 'Iter(train) [1/3]' not in out
    assert (run['work'] / 'iter_3.pth').is_file()


def test_ade847_by_our_and_mmsegmentations_test_scripts(run):
    ckpt = str(run['work'] / 'iter_2.pth')
    ours = _run([
        osp.join(REPO, 'tools', 'test.py'), run['test_config'], ckpt,
        '--work-dir',
        str(run['tmp'] / 'test_ours')
    ], run['tmp'])
    out = ours.stdout + ours.stderr
    assert ours.returncode == 0, out[-4000:]
    # the 847-class test vocabulary, a config change only
    assert 'classes match the vocabulary (847 classes' in out
    numbers = _metrics(out)
    assert all(0.0 <= v <= 100.0 for v in numbers)
    theirs = _run([
        '-m', 'mmclipself.run', MMSEG_TEST, run['test_config'], ckpt,
        '--work-dir',
        str(run['tmp'] / 'test_mmseg')
    ], run['tmp'])
    out = theirs.stdout + theirs.stderr
    assert theirs.returncode == 0, out[-4000:]
    assert _metrics(out) == numbers


def test_mmsegmentations_test_script_loads_strictly(run):
    ckpt = torch.load(run['work'] / 'iter_2.pth', weights_only=False)
    state = ckpt['state_dict']
    key = next(k for k in state if k.startswith('decode_head.'))
    state[key + '_renamed'] = state.pop(key)
    bad = run['tmp'] / 'renamed.pth'
    torch.save(ckpt, bad)
    res = _run([
        '-m', 'mmclipself.run', MMSEG_TEST, run['test_config'],
        str(bad), '--work-dir',
        str(run['tmp'] / 'test_bad')
    ], run['tmp'])
    out = res.stdout + res.stderr
    assert res.returncode != 0
    assert f'{bad} does not match the model' in out, out[-3000:]
    assert f'1 missing keys [{key}]' in out
    assert not re.search(r'mIoU: [\d.]+', out)  # nothing evaluated
