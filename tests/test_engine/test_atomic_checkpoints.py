# Copyright (c) mmclipself contributors. All rights reserved.
"""``StrictRunner.save_checkpoint`` writes a checkpoint whole or not at all.

A full disk is simulated with ``RLIMIT_FSIZE`` in a subprocess: the second
save of ``iter_1.pth`` is larger than the limit, so its write fails half-way.
MMEngine's own Runner, which writes in place, is left with a truncated file
(the good checkpoint is lost); ``StrictRunner`` keeps the earlier file intact
and leaves no temporary file behind.
"""
import os
import subprocess
import sys

import pytest
import torch

from mmclipself.testing.runs import REPO

SCRIPT = r'''
import resource, signal, sys
import torch, torch.nn as nn
from mmengine.hooks import Hook
from mmengine.model import BaseModel
from mmengine.runner import Runner
from mmclipself.engine import StrictRunner


class TinyModel(BaseModel):

    def __init__(self):
        super().__init__()
        self.linear = nn.Linear(2, 2)

    def forward(self, inputs=None, data_samples=None, mode='tensor'):
        out = self.linear(torch.as_tensor(inputs).reshape(-1, 2))
        return dict(loss=out.sum()) if mode == 'loss' else out


class Grow(Hook):
    armed = False

    def before_save_checkpoint(self, runner, checkpoint):
        if self.armed:
            checkpoint['meta']['padding'] = torch.zeros(1_000_000)


cls = dict(StrictRunner=StrictRunner, Runner=Runner)[sys.argv[1]]
hook = Grow()
torch.manual_seed(0)
runner = cls(
    model=TinyModel(),
    work_dir=sys.argv[2],
    train_dataloader=dict(
        dataset=[dict(inputs=torch.ones(2))] * 2,
        sampler=dict(type='DefaultSampler', shuffle=False),
        batch_size=1,
        collate_fn=dict(type='default_collate')),
    train_cfg=dict(by_epoch=False, max_iters=1),
    optim_wrapper=dict(optimizer=dict(type='SGD', lr=0.1)),
    custom_hooks=[hook],
    default_hooks=dict(logger=None, checkpoint=None))
runner.train()
runner.save_checkpoint(sys.argv[2], 'iter_1.pth')
hook.armed = True
# a "full disk": no file may grow beyond 256 kB (the padded save is 4 MB)
signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
resource.setrlimit(resource.RLIMIT_FSIZE, (256_000, 256_000))
try:
    runner.save_checkpoint(sys.argv[2], 'iter_1.pth')
except OSError as e:
    print('SAVE FAILED', e)
    sys.exit(3)
'''


def _save_twice(tmp_path, name):
    script = tmp_path / 'save.py'
    script.write_text(SCRIPT)
    work_dir = tmp_path / name
    proc = subprocess.run(
        [sys.executable, str(script), name,
         str(work_dir)],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=300)
    assert proc.returncode == 3, proc.stdout + proc.stderr
    assert 'SAVE FAILED' in proc.stdout
    return str(work_dir)


@pytest.mark.slow
def test_a_failed_save_keeps_the_earlier_checkpoint(tmp_path):
    work_dir = _save_twice(tmp_path, 'StrictRunner')
    ckpt = torch.load(os.path.join(work_dir, 'iter_1.pth'), weights_only=False)
    assert 'padding' not in ckpt['meta']  # the first, complete save
    assert set(ckpt['state_dict']) == {'linear.weight', 'linear.bias'}
    # no temporary file left behind
    assert not [f for f in os.listdir(work_dir) if f.startswith('.')]


@pytest.mark.slow
def test_mmengine_runner_loses_it_the_contrast(tmp_path):
    # what StrictRunner fixes: MMEngine truncates the good file in place
    work_dir = _save_twice(tmp_path, 'Runner')
    with pytest.raises(Exception):
        torch.load(os.path.join(work_dir, 'iter_1.pth'), weights_only=False)
