# Copyright (c) mmclipself contributors. All rights reserved.
import pytest
import torch
import torch.nn.functional as F

from mmclipself.models.layers import resize_pos_embed


def test_same_grid_is_identity_and_shapes_kept():
    pe = torch.randn(1, 1 + 14 * 14, 8)
    assert resize_pos_embed(pe, (14, 14), (14, 14)) is pe
    out = resize_pos_embed(pe[0], (14, 14), (64, 48))
    assert out.shape == (1 + 64 * 48, 8)


def test_bicubic_without_antialias_and_class_token_untouched():
    torch.manual_seed(0)
    pe = torch.randn(1, 1 + 4 * 6, 3)
    out = resize_pos_embed(pe, (4, 6), (2, 3))  # downsampling: antialias
    grid = pe[0, 1:].reshape(4, 6, 3).permute(2, 0, 1)[None]  # would differ
    ref = F.interpolate(grid, size=(2, 3), mode='bicubic', align_corners=False)
    ref_aa = F.interpolate(
        grid, size=(2, 3), mode='bicubic', align_corners=False, antialias=True)
    assert torch.equal(out[0, 0], pe[0, 0])
    got = out[0, 1:].reshape(2, 3, 3).permute(2, 0, 1)[None]
    assert torch.allclose(got, ref, atol=1e-6)
    assert not torch.allclose(got, ref_aa, atol=1e-3)


def test_constant_field_stays_constant_when_upsampling():
    pe = torch.full((1, 1 + 3 * 3, 2), 0.5)
    out = resize_pos_embed(pe, (3, 3), (7, 5))
    assert torch.allclose(out, torch.full_like(out, 0.5), atol=1e-6)


def test_wrong_token_count_is_reported():
    with pytest.raises(ValueError, match=r'51 tokens, expected 1 \+ 7x7'):
        resize_pos_embed(torch.zeros(1, 51, 4), (7, 7), (8, 8))
