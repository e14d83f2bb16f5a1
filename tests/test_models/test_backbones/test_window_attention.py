# Copyright (c) mmclipself contributors. All rights reserved.
"""Local window attention (paper Table 7)."""
import pytest
import torch

from mmclipself.testing.towers import tiny_eva, tiny_openai

TOWERS = {'eva02': tiny_eva, 'openai': tiny_openai}


@pytest.mark.parametrize('name', TOWERS)
def test_one_window_is_global_attention(name):
    torch.manual_seed(0)
    glob = TOWERS[name]().eval()
    win = TOWERS[name](window_attn=(1, 1)).eval()
    win.load_state_dict(glob.state_dict())
    x = torch.randn(2, 3, 32, 48)
    assert torch.allclose(
        glob.forward_dense(x), win.forward_dense(x), atol=1e-6)
    assert torch.allclose(
        glob.forward_image(x), win.forward_image(x), atol=1e-6)


@pytest.mark.parametrize('name', TOWERS)
def test_window_block_equals_the_block_run_on_each_window(name):
    # 2x2 windows on a 4x6 grid: every window is the block applied to the
    # class token plus that window's 2x3 tokens (with their own RoPE rows),
    # and the merged class token is the windows' average.
    torch.manual_seed(0)
    model = TOWERS[name](window_attn=(2, 2)).eval()
    x, grid, kw = model._embed(torch.randn(1, 3, 32, 48))
    out = model._windowed_block(0, x, grid, **kw)
    h, w = grid
    idx = torch.arange(h * w).reshape(h, w)
    cls_outs = []
    for r in range(2):
        for c in range(2):
            sel = idx[r * 2:(r + 1) * 2, c * 3:(c + 1) * 3].flatten()
            tokens = torch.cat([x[:, :1], x[:, 1:][:, sel]], dim=1)
            kw_win = dict(kw)
            if kw.get('rope') is not None:
                kw_win['rope'] = kw['rope'][sel]
            ref = model._block(0, tokens, **kw_win)
            assert torch.allclose(out[:, 1:][:, sel], ref[:, 1:], atol=1e-5)
            cls_outs.append(ref[:, :1])
    assert torch.allclose(out[:, :1], torch.stack(cls_outs).mean(0), atol=1e-5)


def test_windows_must_divide_the_grid():
    model = tiny_eva(window_attn=(3, 3))
    with pytest.raises(ValueError, match='4x4 token grid does not split'):
        model(torch.randn(1, 3, 32, 32))
    with pytest.raises(ValueError, match='window_attn'):
        tiny_eva(window_attn=(0, 2))
