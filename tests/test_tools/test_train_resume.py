# Copyright (c) mmclipself contributors. All rights reserved.
"""``tools/train.py --resume`` continues a crashed run exactly.

A tiny regression model trains for 8 iterations with AdamW, warm-up and a
cosine schedule. One run goes straight through; another crashes right after
the checkpoint at iteration 4 and is resumed with ``--resume``. Both must end
with the same weights, optimizer state, LR and iteration.
"""
import textwrap

import pytest
import torch

from mmclipself.testing.runs import REPO, train_in_subprocess, write_crash_hook

# trains in subprocesses through tools/train.py
pytestmark = pytest.mark.slow

TOY_MODULE = textwrap.dedent('''
    """Test-only modules for the resume test (registered in mmclipself)."""
    import os

    import torch
    import torch.nn as nn
    from mmengine.model import BaseModel
    from torch.utils.data import Dataset

    from mmclipself.registry import DATASETS, MODELS


    @MODELS.register_module()
    class ToyRegressor(BaseModel):
        def __init__(self):
            super().__init__()
            self.fc1 = nn.Linear(8, 16)
            self.norm = nn.LayerNorm(16)
            self.fc2 = nn.Linear(16, 1)

        def forward(self, inputs, targets, mode='tensor'):
            pred = self.fc2(self.norm(self.fc1(inputs).relu())).squeeze(1)
            if mode == 'loss':
                return dict(loss_mse=((pred - targets) ** 2).mean())
            return pred


    @DATASETS.register_module()
    class ToyRegression(Dataset):
        def __init__(self, size=32):
            g = torch.Generator().manual_seed(1)
            self.x = torch.randn(size, 8, generator=g)
            self.y = self.x.sum(1) + 0.1 * torch.randn(size, generator=g)

        def __len__(self):
            return len(self.x)

        def __getitem__(self, i):
            return dict(inputs=self.x[i], targets=self.y[i])
''')

CONFIG = textwrap.dedent('''
    _base_ = ['{repo}/configs/_base_/default_runtime.py']
    custom_imports = dict(
        imports=['toy_resume', 'crash_hook'], allow_failed_imports=False)
    model = dict(type='ToyRegressor')
    train_dataloader = dict(
        batch_size=4, num_workers=0,
        sampler=dict(type='InfiniteSampler', shuffle=True),
        collate_fn=dict(type='default_collate'),
        dataset=dict(type='ToyRegression'))
    train_cfg = dict(type='IterBasedTrainLoop', max_iters=8)
    optim_wrapper = dict(
        optimizer=dict(type='AdamW', lr=0.01, weight_decay=0.1))
    param_scheduler = [
        dict(type='LinearLR', start_factor=0.1, by_epoch=False, begin=0,
             end=3),
        dict(type='CosineAnnealingLR', by_epoch=False, begin=0, end=8,
             T_max=8),
    ]
    default_hooks = dict(
        checkpoint=dict(type='CheckpointHook', interval=4, by_epoch=False),
        logger=dict(type='LoggerHook', interval=1))
    log_processor = dict(by_epoch=False)
    custom_hooks = [dict(type='mmclipself.CrashAfterIterForTest')]
    randomness = dict(seed=0)
''')


def _train(tmp_path, work_dir, *extra, crash_at=None):
    return train_in_subprocess(
        tmp_path / 'toy_config.py',
        work_dir,
        *extra,
        pythonpath=[tmp_path],
        crash_at=crash_at)


def test_resume_matches_uninterrupted_run(tmp_path):
    (tmp_path / 'toy_resume.py').write_text(TOY_MODULE)
    (tmp_path / 'toy_config.py').write_text(CONFIG.format(repo=REPO))
    write_crash_hook(tmp_path)

    straight = _train(tmp_path, tmp_path / 'straight')
    assert straight.returncode == 0, straight.stderr[-3000:]

    crashed = _train(tmp_path, tmp_path / 'resumed', crash_at=4)
    assert crashed.returncode != 0
    assert 'simulated crash' in crashed.stderr
    assert (tmp_path / 'resumed' / 'iter_4.pth').is_file()
    assert not (tmp_path / 'resumed' / 'iter_8.pth').exists()

    resumed = _train(tmp_path, tmp_path / 'resumed', '--resume')
    assert resumed.returncode == 0, resumed.stderr[-3000:]
    log = resumed.stdout + resumed.stderr
    assert 'resumed epoch: 0, iter: 4' in log

    a = torch.load(tmp_path / 'straight' / 'iter_8.pth', weights_only=True)
    b = torch.load(tmp_path / 'resumed' / 'iter_8.pth', weights_only=True)
    assert a['meta']['iter'] == b['meta']['iter'] == 8
    assert a['state_dict'].keys() == b['state_dict'].keys()
    for key, value in a['state_dict'].items():
        assert torch.equal(value, b['state_dict'][key]), key
    opt_a, opt_b = a['optimizer']['state'], b['optimizer']['state']
    assert opt_a.keys() == opt_b.keys()
    for idx in opt_a:
        for name in ('step', 'exp_avg', 'exp_avg_sq'):
            assert torch.equal(opt_a[idx][name], opt_b[idx][name]), (idx, name)
    assert a['optimizer']['param_groups'][0]['lr'] == b['optimizer'][
        'param_groups'][0]['lr']
    assert a['param_schedulers'] == b['param_schedulers']
    # the resumed run really trained: its weights moved since iteration 4
    mid = torch.load(tmp_path / 'resumed' / 'iter_4.pth', weights_only=True)
    assert not torch.equal(mid['state_dict']['fc1.weight'],
                           b['state_dict']['fc1.weight'])
