# Copyright (c) mmclipself contributors. All rights reserved.
"""NonFiniteLossHook in a real MMEngine Runner on a one-layer model.

The model's weight is poisoned (set to NaN) in the forward of a chosen call,
after the loss is computed: that step's loss is finite, the weights saved
after it would not be. The subprocess tests through tools/train.py are in
tests/test_tools/test_training_guards.py.
"""
import math

import pytest
import torch
from mmengine.hooks import Hook
from mmengine.model import BaseModel
from mmengine.runner import Runner
from torch import nn

from mmclipself.engine.hooks import NonFiniteLossHook

# trains through the Runner (2-3 s for the module)
pytestmark = pytest.mark.slow


class _Toy(BaseModel):

    def __init__(self, poison_at=0, inf_loss_at=0):
        super().__init__()
        self.linear = nn.Linear(2, 1)
        self.calls = 0
        self.poison_at, self.inf_loss_at = poison_at, inf_loss_at

    def forward(self, inputs, data_samples=None, mode='tensor'):
        self.calls += 1
        out = self.linear(inputs).abs().mean()
        if self.calls == self.poison_at:
            with torch.no_grad():
                self.linear.weight.fill_(math.nan)
        # not a loss term (no 'loss' in the name): never checked
        losses = dict(loss_a=out, acc=torch.tensor(math.nan))
        if self.calls == self.inf_loss_at:
            losses['loss_b'] = torch.tensor(math.inf)
        return losses


class _SaveAfterIter2(Hook):
    """Saves outside CheckpointHook's schedule (like a best checkpoint)."""
    priority = 'LOWEST'

    def after_train_iter(self,
                         runner,
                         batch_idx,
                         data_batch=None,
                         outputs=None):
        if runner.iter + 1 == 2:
            runner.save_checkpoint(runner.work_dir, 'other.pth')


def _runner(tmp_path,
            model,
            *,
            epochs=0,
            iters=0,
            ckpt=None,
            hook=None,
            custom_hooks=()):
    train_cfg = (
        dict(by_epoch=True, max_epochs=epochs) if epochs else dict(
            by_epoch=False, max_iters=iters))
    return Runner(
        model=model,
        work_dir=str(tmp_path),
        experiment_name=f'toy_{tmp_path.name}',
        train_dataloader=dict(
            dataset=[dict(inputs=torch.ones(2))],
            sampler=dict(
                type='InfiniteSampler' if iters else 'DefaultSampler',
                shuffle=False),
            collate_fn=dict(type='default_collate'),
            batch_size=1,
            num_workers=0),
        optim_wrapper=dict(optimizer=dict(type='SGD', lr=0.1)),
        train_cfg=train_cfg,
        default_hooks=dict(
            checkpoint=ckpt or dict(
                type='CheckpointHook',
                interval=1,
                max_keep_ckpts=1,
                by_epoch=bool(epochs)),
            non_finite_loss=hook or dict(type='mmclipself.NonFiniteLossHook')),
        custom_hooks=list(custom_hooks),
        default_scope='mmclipself')


def _pth(tmp_path):
    return sorted(p.name for p in tmp_path.glob('*.pth'))


def test_finite_run_with_a_nan_non_loss_value_trains_to_the_end(tmp_path):
    _runner(tmp_path, _Toy(), iters=3).train()
    assert _pth(tmp_path) == ['iter_3.pth']


def test_infinite_loss_term_is_named_before_its_checkpoint(tmp_path):
    runner = _runner(tmp_path, _Toy(inf_loss_at=3), iters=5)
    with pytest.raises(FloatingPointError) as error:
        runner.train()
    assert str(error.value).startswith(
        'non-finite loss at iteration 3 (epoch 1): loss=inf, loss_b=inf.')
    assert 'iter_2.pth' in str(error.value)
    assert _pth(tmp_path) == ['iter_2.pth']  # not rotated out


def test_weights_checked_before_an_epoch_checkpoint(tmp_path):
    # one iteration per epoch; epoch 2's step leaves a NaN weight
    runner = _runner(tmp_path, _Toy(poison_at=2), epochs=3)
    with pytest.raises(
            FloatingPointError,
            match=r'the weights after epoch 2 hold non-finite '
            r'values in 1 of 2 tensors \(linear.weight\)'):
        runner.train()
    assert _pth(tmp_path) == ['epoch_1.pth']


def test_other_saves_are_checked_on_the_state_to_write(tmp_path):
    never = dict(
        type='CheckpointHook', interval=100, by_epoch=False, save_last=False)
    runner = _runner(
        tmp_path,
        _Toy(poison_at=2),
        iters=4,
        ckpt=never,
        custom_hooks=[_SaveAfterIter2()])
    with pytest.raises(
            FloatingPointError,
            match=r'^the weights about to be saved hold '
            r'non-finite values in 1 of 2 tensors'):
        runner.train()
    assert _pth(tmp_path) == []


def test_check_params_off_only_checks_the_loss(tmp_path):
    hook = dict(type='mmclipself.NonFiniteLossHook', check_params=False)
    runner = _runner(tmp_path, _Toy(poison_at=2), iters=4, hook=hook)
    with pytest.raises(
            FloatingPointError, match='non-finite loss at iteration 3'):
        runner.train()
    # the weights of iteration 2 were saved unchecked
    state = torch.load(tmp_path / 'iter_2.pth', weights_only=True)
    assert state['state_dict']['linear.weight'].isnan().all()
    hook = [h for h in runner.hooks if isinstance(h, NonFiniteLossHook)]
    assert len(hook) == 1 and hook[0].check_params is False
