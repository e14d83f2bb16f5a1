# Copyright (c) mmclipself contributors. All rights reserved.
"""Training guards through ``tools/train.py``: what is left on disk.

A diverging learning rate (AdamW, lr=1e6) turns the tiny demo student's
weights NaN at its second step. The run must stop with a message naming the
iteration, save nothing non-finite and keep the last finite checkpoint,
which rotation would otherwise delete. A resumed run must not rewrite the
student-blend file of the checkpoint it resumed from.
"""

import pytest
import torch

from mmclipself.testing.runs import (train_in_subprocess,
                                     write_tiny_distill_config)

# trains in subprocesses through tools/train.py
pytestmark = pytest.mark.slow

BODY = '''
    train_cfg = dict(max_iters={iters}, val_interval=100, val_begin=100)
    optim_wrapper = dict(optimizer=dict(lr={lr}))
    param_scheduler = []
    default_hooks = dict(
        checkpoint=dict(type='CheckpointHook', interval={interval},
                        by_epoch=False, max_keep_ckpts={keep}),
        logger=dict(interval=1))
    custom_hooks = [
        dict(type='mmclipself.StudentTeacherBlendHook', alpha=0.7),
        dict(type='mmclipself.CrashAfterIterForTest'),
    ]
'''


def _config(tmp_path, *, lr, interval, iters, keep=1):
    return write_tiny_distill_config(
        tmp_path,
        BODY.format(lr=lr, interval=interval, iters=iters, keep=keep))


def _train(tmp_path, *extra, crash_at=None):
    return train_in_subprocess(
        tmp_path / 'cfg.py',
        tmp_path / 'work',
        *extra,
        pythonpath=[tmp_path],
        crash_at=crash_at)


def _saved(work):
    return sorted(p.name for p in work.glob('iter_*.pth'))


def _all_finite(path):
    state = torch.load(path, weights_only=True)
    state = state.get('state_dict', state)
    return all(
        torch.isfinite(v).all() for v in state.values()
        if v.is_floating_point())


def test_non_finite_weights_stop_before_the_checkpoint(tmp_path):
    # a checkpoint every iteration, one kept: iteration 2 would rotate the
    # finite iter_1 out in favour of NaN weights
    _config(tmp_path, lr=1e6, interval=1, iters=8)
    run = _train(tmp_path)
    assert run.returncode != 0, run.stdout[-3000:]
    assert ('FloatingPointError: the weights after iteration 2 hold '
            'non-finite values') in run.stderr, run.stderr[-3000:]
    assert 'student.trunk.blocks.0' in run.stderr
    assert 'The last checkpoint is' in run.stderr
    work = tmp_path / 'work'
    assert _saved(work) == ['iter_1.pth', 'iter_1_student_blend0.7.pth']
    for name in _saved(work):
        assert _all_finite(work / name), name
    assert (work / 'last_checkpoint').read_text().endswith('iter_1.pth')


def test_non_finite_loss_names_iteration_and_terms(tmp_path):
    # no checkpoint is due at iteration 2, where the weights turn NaN; the
    # loss of iteration 3 is NaN, and iteration 3 would save
    _config(tmp_path, lr=1e6, interval=3, iters=8)
    run = _train(tmp_path)
    assert run.returncode != 0, run.stdout[-3000:]
    assert ('FloatingPointError: non-finite loss at iteration 3 (epoch 1): '
            'loss=nan, loss_cosine=nan') in run.stderr, run.stderr[-3000:]
    assert 'No checkpoint was saved yet.' in run.stderr
    work = tmp_path / 'work'
    assert _saved(work) == []
    assert not (work / 'last_checkpoint').exists()


def test_resume_keeps_the_blend_of_the_resumed_checkpoint(tmp_path):
    _config(tmp_path, lr=1e-3, interval=2, iters=4, keep=2)
    crashed = _train(tmp_path, crash_at=2)
    assert crashed.returncode != 0
    assert 'simulated crash' in crashed.stderr
    work = tmp_path / 'work'
    blend = work / 'iter_2_student_blend0.7.pth'
    before = blend.read_bytes(), blend.stat().st_mtime_ns

    resumed = _train(tmp_path, '--resume')
    assert resumed.returncode == 0, resumed.stderr[-3000:]
    assert 'resumed epoch: 0, iter: 2' in resumed.stdout + resumed.stderr
    assert (blend.read_bytes(), blend.stat().st_mtime_ns) == before
    # the resumed run writes the blends of its own checkpoints
    assert _saved(work) == [
        'iter_2.pth', 'iter_2_student_blend0.7.pth', 'iter_4.pth',
        'iter_4_student_blend0.7.pth'
    ]
