# Copyright (c) mmclipself contributors. All rights reserved.
"""CLIPSelf on the tiny demo tower: small checkpoints, exact resume.

The teacher is a frozen part: the checkpoint holds only its record, and
``tools/train.py --resume`` re-makes it (the same seeded initialisation as
the student's) before the checkpoint is loaded and checked. A run that
crashes after iteration 2 and is resumed must end bit-identical to an
uninterrupted one.
"""

import pytest
import torch

from mmclipself.models.utils.frozen import decode_record
from mmclipself.testing.runs import (train_in_subprocess,
                                     write_tiny_distill_config)

# trains in subprocesses through tools/train.py
pytestmark = pytest.mark.slow

BODY = '''
    train_cfg = dict(max_iters=4, val_interval=100, val_begin=100)
    param_scheduler = [
        dict(type='LinearLR', start_factor=0.1, by_epoch=False, begin=0,
             end=2),
        dict(type='CosineAnnealingLR', by_epoch=False, begin=0, end=4,
             T_max=4),
    ]
    default_hooks = dict(
        checkpoint=dict(type='CheckpointHook', interval=2, by_epoch=False),
        logger=dict(interval=1))
    custom_hooks = [dict(type='mmclipself.CrashAfterIterForTest')]
'''


def _train(tmp_path, work_dir, *extra, crash_at=None):
    return train_in_subprocess(
        tmp_path / 'cfg.py',
        work_dir,
        *extra,
        pythonpath=[tmp_path],
        crash_at=crash_at)


def test_distiller_checkpoint_has_no_teacher_and_resumes_exactly(tmp_path):
    write_tiny_distill_config(tmp_path, BODY)

    straight = _train(tmp_path, tmp_path / 'straight')
    assert straight.returncode == 0, straight.stderr[-3000:]
    crashed = _train(tmp_path, tmp_path / 'resumed', crash_at=2)
    assert crashed.returncode != 0
    assert 'simulated crash' in crashed.stderr
    assert not (tmp_path / 'resumed' / 'iter_4.pth').exists()
    resumed = _train(tmp_path, tmp_path / 'resumed', '--resume')
    assert resumed.returncode == 0, resumed.stderr[-3000:]
    assert 'resumed epoch: 0, iter: 2' in resumed.stdout + resumed.stderr

    a = torch.load(tmp_path / 'straight' / 'iter_4.pth', weights_only=True)
    b = torch.load(tmp_path / 'resumed' / 'iter_4.pth', weights_only=True)
    # no teacher tensors, only its record: a random tower, fingerprinted
    for ckpt in (a, b):
        assert [k for k in ckpt['state_dict']
                if k.startswith('teacher.')] == ['teacher.__frozen__']
    record = decode_record(a['state_dict']['teacher.__frozen__'])
    assert record['source'] is None and len(record['fingerprint']) == 16
    assert a['state_dict'].keys() == b['state_dict'].keys()
    for key, value in a['state_dict'].items():
        assert torch.equal(value, b['state_dict'][key]), key
    opt_a, opt_b = a['optimizer']['state'], b['optimizer']['state']
    assert opt_a.keys() == opt_b.keys()
    for idx in opt_a:
        for name in ('step', 'exp_avg', 'exp_avg_sq'):
            assert torch.equal(opt_a[idx][name], opt_b[idx][name]), (idx, name)
    # the resumed run really trained after iteration 2
    mid = torch.load(tmp_path / 'resumed' / 'iter_2.pth', weights_only=True)
    key = 'student.trunk.blocks.0.attn.v_proj.weight'
    assert not torch.equal(mid['state_dict'][key], b['state_dict'][key])
