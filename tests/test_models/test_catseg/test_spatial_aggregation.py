# Copyright (c) mmclipself contributors. All rights reserved.
import math

import pytest
import torch

from mmclipself.models.catseg import (GuidedSwinBlock, SpatialAggregation,
                                      shifted_window_mask)


def _naive_block(block, x, g, window, shift):
    """Per-window, per-token reference with true concatenation.

    Token ``(i, j)`` of the shifted grid comes from ``((i + s) % H,
    (j + s) % W)``; two tokens of a window may attend to each other only
    if both or neither wrapped around, on each axis (else score - 100).
    """
    b, t, h, w, c = x.shape
    heads = block.num_heads
    d = c // heads
    xn = block.norm1(x)
    attn_out = torch.zeros_like(x)
    for bi in range(b):
        for ti in range(t):
            for wy in range(h // window):
                for wx in range(w // window):
                    coords, wraps = [], []
                    for yy in range(window):
                        for xx in range(window):
                            i, j = wy * window + yy, wx * window + xx
                            coords.append(((i + shift) % h, (j + shift) % w))
                            wraps.append(
                                (shift > 0 and i >= h - shift, shift > 0
                                 and j >= w - shift))
                    tok = torch.stack([xn[bi, ti, y, x_] for y, x_ in coords])
                    gd = torch.stack([g[bi, y, x_] for y, x_ in coords])
                    cat = torch.cat([tok, gd], dim=1)
                    q = cat @ block.q.weight.T + block.q.bias
                    k = cat @ block.k.weight.T + block.k.bias
                    v = tok @ block.v.weight.T + block.v.bias
                    n = len(coords)
                    mask = torch.zeros(n, n)
                    for a in range(n):
                        for e in range(n):
                            if wraps[a] != wraps[e]:
                                mask[a, e] = -100.0
                    outs = []
                    for hh in range(heads):
                        sl = slice(hh * d, (hh + 1) * d)
                        s = q[:, sl] @ k[:, sl].T / math.sqrt(d) + mask
                        outs.append(s.softmax(-1) @ v[:, sl])
                    o = torch.cat(outs, 1) @ block.proj.weight.T
                    o = o + block.proj.bias
                    for m, (y, x_) in enumerate(coords):
                        attn_out[bi, ti, y, x_] = o[m]
    x = x + attn_out
    return x + block.mlp(block.norm2(x))


@pytest.mark.parametrize('shift', [0, 2])
def test_guided_swin_block_equals_per_window_reference(shift):
    torch.manual_seed(0)
    block = GuidedSwinBlock(8, 6, num_heads=2, window_size=4, shift=shift)
    x = torch.randn(2, 3, 8, 8, 8)
    g = torch.randn(2, 8, 8, 6)
    with torch.no_grad():
        out = block(x, g)
        ref = _naive_block(block, x, g, 4, shift)
    torch.testing.assert_close(out, ref, rtol=1e-4, atol=1e-5)
    if shift:
        # the reference is sensitive to the mask: without it, it differs
        block.shift = 0
        with torch.no_grad():
            assert not torch.allclose(block(x, g), ref, atol=1e-3)


def test_shifted_window_mask_by_hand():
    mask = shifted_window_mask(4, 4, 2, 1)[:, 0]
    assert mask.shape == (4, 4, 4)
    assert (mask[0] == 0).all()  # top-left window: nothing wrapped
    # top-right window: tokens (0,2),(0,3),(1,2),(1,3); column 3 wrapped
    expected = torch.tensor([[0, -100, 0, -100], [-100, 0, -100, 0],
                             [0, -100, 0, -100], [-100, 0, -100, 0]]).float()
    torch.testing.assert_close(mask[1], expected)
    # bottom-right window: every token in its own region
    torch.testing.assert_close(mask[3], (1 - torch.eye(4)) * -100.0)


def test_small_map_is_one_window_without_shift():
    torch.manual_seed(0)
    block = GuidedSwinBlock(8, 6, num_heads=2, window_size=12, shift=6)
    x, g = torch.randn(1, 2, 4, 4, 8), torch.randn(1, 4, 4, 6)
    with torch.no_grad():
        torch.testing.assert_close(
            block(x, g), _naive_block(block, x, g, 4, 0), rtol=1e-4, atol=1e-5)
    with pytest.raises(ValueError, match='not divisible by the window'):
        block(torch.randn(1, 2, 18, 24, 8), torch.randn(1, 18, 24, 6))


def test_spatial_aggregation_runs_both_blocks_with_shared_norm():
    torch.manual_seed(0)
    layer = SpatialAggregation(8, 6, num_heads=2, window_size=4)
    assert (layer.block1.shift, layer.block2.shift) == (0, 2)
    x = torch.randn(2, 3, 8, 8, 8)
    guidance = torch.randn(2, 6, 8, 8)
    with torch.no_grad():
        g = layer.guidance_norm(guidance.permute(0, 2, 3, 1))
        ref = _naive_block(layer.block2, _naive_block(layer.block1, x, g, 4,
                                                      0), g, 4, 2)
        torch.testing.assert_close(
            layer(x, guidance), ref, rtol=1e-4, atol=1e-5)
