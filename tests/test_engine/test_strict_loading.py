# Copyright (c) mmclipself contributors. All rights reserved.
"""``load_state_dict_strictly``: every tensor, the right shape, or an error.

In-process, on a tiny model with a frozen part (the records and the absent
frozen tensors must keep loading); the tools are tested through their
command lines in tests/test_tools/test_strict_checkpoints.py.
"""
import os.path as osp

import pytest
import torch
import torch.nn as nn
from mmengine.config import Config
from mmengine.model import BaseModule

from mmclipself.engine import (CheckpointMismatchError, StrictRunner,
                               load_state_dict_strictly)
from mmclipself.models.utils.frozen import (FROZEN_RECORD_KEY,
                                            FrozenPartsMixin, record_weights)
from mmclipself.registry import RUNNERS
from mmclipself.testing.runs import REPO


class Owner(FrozenPartsMixin, BaseModule):

    def __init__(self):
        super().__init__()
        self.head = nn.Linear(3, 2)
        self.norm = nn.BatchNorm1d(2)
        self.tower = nn.Linear(4, 3)
        self.register_frozen_part('tower')
        record_weights(self.tower, None)


def _pair():
    torch.manual_seed(0)
    source = Owner()
    target = Owner()
    target.tower.load_state_dict(source.tower.state_dict())  # same tower
    record_weights(target.tower, None)
    return source, target


def test_a_matching_checkpoint_loads_every_tensor():
    source, target = _pair()
    state = source.state_dict()
    # the frozen tower is left out, only its record is kept
    assert 'tower.weight' not in state
    assert 'tower.' + FROZEN_RECORD_KEY in state
    torch.manual_seed(1)
    nn.init.normal_(target.head.weight)
    load_state_dict_strictly(target, state, 'good.pth')
    assert torch.equal(target.head.weight, source.head.weight)
    assert torch.equal(target.norm.running_mean, source.norm.running_mean)
    # an old BatchNorm checkpoint without num_batches_tracked still loads
    del state['norm.num_batches_tracked']
    load_state_dict_strictly(target, state, 'old.pth')


def test_renamed_key_is_named_with_the_file():
    source, target = _pair()
    state = source.state_dict()
    state['head.weights'] = state.pop('head.weight')
    with pytest.raises(CheckpointMismatchError) as info:
        load_state_dict_strictly(target, state, 'work_dirs/renamed.pth')
    message = str(info.value)
    assert message.startswith(
        'work_dirs/renamed.pth does not match the model Owner')
    assert '1 missing keys [head.weight]' in message
    assert '1 unexpected keys [head.weights]' in message
    assert 'wrong shape' not in message


def test_wrong_shape_is_named_with_both_shapes():
    source, target = _pair()
    state = source.state_dict()
    state['head.bias'] = torch.zeros(5)
    before = target.head.bias.clone()
    with pytest.raises(CheckpointMismatchError) as info:
        load_state_dict_strictly(target, state, 'shape.pth')
    message = str(info.value)
    assert ('1 tensors of the wrong shape [head.bias (checkpoint [5], '
            'model [2])]') in message
    assert 'missing' not in message and 'unexpected' not in message
    assert 'size mismatch' not in message  # PyTorch's sentence replaced
    assert torch.equal(target.head.bias, before)


def test_frozen_tower_mismatch_still_fails_through_the_record():
    source, target = _pair()
    with torch.no_grad():
        target.tower.weight.add_(1)
    record_weights(target.tower, None)
    with pytest.raises(RuntimeError, match="frozen part 'tower'"):
        load_state_dict_strictly(target, source.state_dict(), 'a.pth')


def test_the_default_runtime_selects_the_strict_runner():
    cfg = Config.fromfile(
        osp.join(REPO, 'configs', '_base_', 'default_runtime.py'))
    assert RUNNERS.get(cfg.runner_type) is StrictRunner
