# Copyright (c) mmclipself contributors. All rights reserved.
"""timm's EVA02 rotary embedding equals the CLIPSelf release's on any grid.

The release (reference facts §1) recomputes RoPE for a square N x N grid with
``t = arange(N) / N * 16`` and frequencies ``1 / 10000 ** (arange(0, 32, 2)
/ 32)`` for a half head width of 32, each frequency repeated twice, rows then
columns. We build that table here from the formula and compare it with what
the EVA02 tower feeds its blocks.
"""
import pytest
import torch

from mmclipself.models import EVA02CLIPViT
from mmclipself.testing.towers import TINY_EVA


def release_rope(n: int, head_dim: int = 64, ref: int = 16):
    half = head_dim // 2
    t = torch.arange(n).float() / n * ref
    bands = 1. / (10000**(torch.arange(0, half, 2)[:half // 2].float() / half))
    freqs = torch.einsum('i,f->if', t, bands).repeat_interleave(2, dim=-1)
    rows = freqs[:, None, :].expand(n, n, -1)
    cols = freqs[None, :, :].expand(n, n, -1)
    freqs = torch.cat([rows, cols], dim=-1).reshape(n * n, head_dim)
    return freqs.cos(), freqs.sin()


@pytest.mark.parametrize('n', [4, 14, 24, 64])
def test_rope_matches_release_formula(n):
    model = EVA02CLIPViT(arch=TINY_EVA)  # head_dim 64, ref grid 16x16
    _, grid, kw = model._embed(torch.zeros(1, 3, 8 * n, 8 * n))
    assert grid == (n, n)
    sin, cos = kw['rope'].chunk(2, dim=-1)
    ref_cos, ref_sin = release_rope(n)
    assert torch.allclose(cos, ref_cos, atol=1e-5)
    assert torch.allclose(sin, ref_sin, atol=1e-5)


def test_real_eva02_b16_rope_at_1024():
    model = EVA02CLIPViT(arch='eva02-b16')
    _, grid, kw = model._embed(torch.zeros(1, 3, 1024, 1024))
    assert grid == (64, 64)
    sin, cos = kw['rope'].chunk(2, dim=-1)
    ref_cos, ref_sin = release_rope(64)
    assert torch.allclose(cos, ref_cos, atol=1e-5)
    assert torch.allclose(sin, ref_sin, atol=1e-5)
