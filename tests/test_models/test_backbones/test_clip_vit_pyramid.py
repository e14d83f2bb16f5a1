# Copyright (c) mmclipself contributors. All rights reserved.
"""The frozen CLIP ViT pyramid (F-ViT backbone, paper A.3)."""
import os

import pytest
import torch

from mmclipself.models import CLIPViTPyramid
from mmclipself.models.utils.frozen import (FrozenPartMismatchError,
                                            decode_record, init_frozen_parts,
                                            weights_fingerprint)
from mmclipself.testing.towers import (TINY_EVA, TINY_OPENAI,
                                       write_eva_open_clip)

EVA = dict(type='EVA02CLIPViT', arch=TINY_EVA)
BN = dict(type='BN')


@pytest.mark.parametrize('pyramid', ['convt', 'interpolate'])
@pytest.mark.parametrize(
    'clip', [EVA, dict(type='OpenAICLIPViT', arch=TINY_OPENAI)])
def test_levels_have_strides_p_over_4_to_2p(pyramid, clip):
    model = CLIPViTPyramid(
        clip, out_indices=(0, 1, 1, 2), pyramid=pyramid, norm_cfg=BN)
    outs = model(torch.randn(2, 3, 64, 96))  # patch 8: an 8x12 grid
    dim = model.clip.embed_dim
    assert [o.shape for o in outs] == [(2, dim, 32, 48), (2, dim, 16, 24),
                                       (2, dim, 8, 12), (2, dim, 4, 6)]
    assert model.out_channels == (dim, ) * 4


def test_tower_frozen_pyramid_trains_and_dense_from_the_same_pass():
    torch.manual_seed(0)
    model = CLIPViTPyramid(EVA, out_indices=(0, 1, 1, 2), norm_cfg=BN)
    model.train()
    assert not model.clip.training
    assert not any(p.requires_grad for p in model.clip.parameters())
    outs, _ = model.forward_with_dense(torch.randn(2, 3, 32, 32))
    sum(o.sum() for o in outs).backward()
    assert all(p.grad is not None for p in model.up4.parameters()
               if p.requires_grad)
    model.eval()
    x = torch.randn(1, 3, 32, 32)
    levels, dense = model.forward_with_dense(x)
    assert torch.allclose(dense, model.clip.forward_dense(x), atol=1e-6)
    assert all(
        torch.allclose(a, b, atol=1e-6) for a, b in zip(levels, model(x)))


def test_checkpoints_skip_the_tower_and_restore_it_checked(tmp_path):
    weights = write_eva_open_clip(tmp_path / 'clip.pt', seed=0)
    clip = dict(EVA, pretrained=weights)
    model = CLIPViTPyramid(clip, out_indices=(0, 1, 1, 2), norm_cfg=BN)
    model.init_weights()
    state = model.state_dict()
    # only the record of the tower: where it came from and its fingerprint
    assert [k for k in state if k.startswith('clip.')] == ['clip.__frozen__']
    record = decode_record(state['clip.__frozen__'])
    assert record['source'] == weights
    assert record['fingerprint'] == weights_fingerprint(model.clip)
    assert any(k.startswith('up4.') for k in state)

    fresh = CLIPViTPyramid(clip, out_indices=(0, 1, 1, 2), norm_cfg=BN)
    with pytest.raises(FrozenPartMismatchError, match='never initialised'):
        fresh.load_state_dict(state, strict=True)
    assert init_frozen_parts(fresh) == ['clip']  # reads the file here
    assert init_frozen_parts(fresh) == []
    os.remove(weights)  # loading never opens files
    fresh.load_state_dict(state, strict=True)
    x = torch.randn(1, 3, 32, 48)
    model.eval(), fresh.eval()
    assert all(
        torch.allclose(a, b, atol=1e-6) for a, b in zip(model(x), fresh(x)))

    full = CLIPViTPyramid(
        clip, out_indices=(0, 1, 1, 2), norm_cfg=BN, save_clip_weights=True)
    assert any(k.startswith('clip.trunk.') for k in full.state_dict())

    other = write_eva_open_clip(tmp_path / 'other.pt', seed=1)
    wrong = CLIPViTPyramid(
        dict(EVA, pretrained=other), out_indices=(0, 1, 1, 2), norm_cfg=BN)
    wrong.init_weights()
    with pytest.raises(FrozenPartMismatchError) as e:
        wrong.load_state_dict(state)
    assert weights in str(e.value) and record['fingerprint'] in str(e.value)
    assert other in str(e.value)


def test_bad_arguments():
    with pytest.raises(ValueError, match='4 blocks'):
        CLIPViTPyramid(EVA, out_indices=(0, 1, 2))
    with pytest.raises(ValueError, match='pyramid'):
        CLIPViTPyramid(EVA, out_indices=(0, 1, 1, 2), pyramid='fpn')
