# Copyright (c) mmclipself contributors. All rights reserved.
"""``build_and_load``: the one build-and-load path of the entry points."""
import pytest
import torch
from mmengine.registry import DefaultScope

from mmclipself.apis.model_loading import build_and_load
from mmclipself.engine import CheckpointMismatchError
from mmclipself.testing.catseg import tiny_catseg_config


def _cfg():
    return tiny_catseg_config()


def test_a_checkpoint_loads_every_tensor(tmp_path):
    with DefaultScope.overwrite_default_scope('mmseg'):
        torch.manual_seed(0)
        source = build_and_load(_cfg(), None)
        ckpt = str(tmp_path / 'a.pth')
        torch.save({'state_dict': source.state_dict()}, ckpt)
        torch.manual_seed(1)
        model = build_and_load(_cfg(), ckpt)
    for key, value in source.state_dict().items():
        torch.testing.assert_close(model.state_dict()[key], value)


def test_a_renamed_key_and_a_wrong_model_fail(tmp_path):
    with DefaultScope.overwrite_default_scope('mmseg'):
        state = build_and_load(_cfg(), None).state_dict()
        key = next(k for k in state if k.startswith('decode_head.'))
        state[key + 'x'] = state.pop(key)
        bad = str(tmp_path / 'bad.pth')
        torch.save({'state_dict': state}, bad)
        with pytest.raises(CheckpointMismatchError, match='bad.pth'):
            build_and_load(_cfg(), bad)

        def refuse(model):
            raise TypeError(f'not this kind: {type(model).__name__}')

        # the check runs before anything is read (the file does not exist)
        with pytest.raises(TypeError, match='not this kind: CATSeg'):
            build_and_load(_cfg(), str(tmp_path / 'missing.pth'), refuse)
