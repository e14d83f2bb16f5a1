# Copyright (c) mmclipself contributors. All rights reserved.
"""Extra query tokens under an attention mask (mask class tokens).

MaskCLIP / ODISE / MasQCLIP semantics (segmentation facts §3.3, §3.6):
extra tokens read the image tokens their mask allows, with the block's own
weights; nobody reads them.
"""
import pytest
import torch
import torch.nn.functional as F

from mmclipself.models import EVA02CLIPViT, OpenAICLIPViT
from mmclipself.testing.towers import (TINY_EVA, TINY_OPENAI, tiny_eva,
                                       tiny_eva_fused_qkv, tiny_openai)

TOWERS = {
    'openai': tiny_openai,
    'eva02': tiny_eva,
    'eva02-fused-qkv': tiny_eva_fused_qkv
}


def _inputs(model, q=4, size=(32, 48), seed=0):
    g = torch.Generator().manual_seed(seed)
    x = torch.randn(2, 3, *size, generator=g)
    n = 1 + (size[0] // model.patch_size) * (size[1] // model.patch_size)
    extra = torch.randn(2, q, model.embed_dim, generator=g)
    mask = torch.rand(2, q, n, generator=g) > 0.5
    return x, extra, mask


@pytest.mark.parametrize('name', TOWERS)
@pytest.mark.parametrize('value_only_last', [False, True])
def test_image_tokens_are_bit_identical_with_extra_tokens(
        name, value_only_last):
    torch.manual_seed(0)
    model = TOWERS[name]().eval()
    x, extra, mask = _inputs(model)
    tokens, grid, taps = model.forward_tokens(
        x, taps=(0, 1), value_only_last=value_only_last)
    tokens2, grid2, taps2, out = model.forward_tokens(
        x,
        taps=(0, 1),
        value_only_last=value_only_last,
        extra_tokens=extra,
        extra_attn_mask=mask)
    assert grid == grid2
    assert torch.equal(tokens, tokens2)
    assert all(torch.equal(taps[i], taps2[i]) for i in (0, 1))
    assert out.shape == extra.shape and out.isfinite().all()
    # and the extra tokens do depend on the image tokens they may read
    other = mask.clone()
    other[0, 0] = ~other[0, 0]
    out2 = model.forward_tokens(
        x, extra_tokens=extra, extra_attn_mask=other)[3]
    assert not torch.allclose(out[0, 0], out2[0, 0])
    assert torch.allclose(out[1], out2[1], atol=1e-6)


@pytest.mark.parametrize('name', TOWERS)
def test_extra_tokens_never_read_each_other(name):
    torch.manual_seed(0)
    model = TOWERS[name]().eval()
    x, extra, mask = _inputs(model, q=3)
    out = model.forward_tokens(x, extra_tokens=extra, extra_attn_mask=mask)[3]
    changed = extra.clone()
    changed[:, 1:] = torch.randn_like(changed[:, 1:])
    out2 = model.forward_tokens(
        x, extra_tokens=changed, extra_attn_mask=mask)[3]
    assert torch.allclose(out[:, 0], out2[:, 0], atol=1e-6)
    assert not torch.allclose(out[:, 1], out2[:, 1], atol=1e-3)


@pytest.mark.parametrize('name', TOWERS)
def test_a_class_token_copy_with_a_full_mask_tracks_the_class_token(name):
    # ODISE's mask tokens start as copies of the embedded class token; with
    # nothing masked such a copy asks every block the class token's question
    # of the same keys, so it stays the class token, and its readout is the
    # image embedding
    torch.manual_seed(0)
    model = TOWERS[name]().eval()
    x = torch.randn(2, 3, 32, 48)
    cls = model._embed(x)[0][:, :1]
    tokens, _, _, out = model.forward_tokens(
        x, extra_tokens=cls.repeat(1, 2, 1))
    assert torch.allclose(out, tokens[:, :1].expand(-1, 2, -1), atol=1e-5)
    image = F.normalize(model.forward_image(x), dim=-1)
    assert torch.allclose(model.embed_tokens(out)[:, 1], image, atol=1e-5)
    assert torch.allclose(
        model.embed_tokens(out, normalize=False)[:, 0],
        model.forward_image(x),
        atol=1e-5)


def _one_patch_by_hand_openai(model, x, extra, patch):
    """One-block OpenAI tower: v of one patch -> out_proj -> MLP."""
    blk = model.blocks()[0]
    tokens = model._embed(x)[0]
    ln1, ln2, attn = blk.ln_1, blk.ln_2, blk.attn
    h = F.layer_norm(tokens[:, 1 + patch], (tokens.shape[-1], ), ln1.weight,
                     ln1.bias, ln1.eps)
    v = h @ attn.v_proj.weight.T + attn.v_proj.bias
    y = extra + (v @ attn.out_proj.weight.T + attn.out_proj.bias)[:, None]
    h = F.layer_norm(y, (y.shape[-1], ), ln2.weight, ln2.bias, ln2.eps)
    h = h @ blk.mlp.c_fc.weight.T + blk.mlp.c_fc.bias
    h = h * torch.sigmoid(1.702 * h)  # QuickGELU
    return y + h @ blk.mlp.c_proj.weight.T + blk.mlp.c_proj.bias


def _one_patch_by_hand_eva(model, x, extra, patch):
    """One-block EVA02: v of one patch -> sub-LN -> proj -> SwiGLU MLP."""
    blk = model.blocks()[0]
    tokens = model._embed(x)[0]
    c = tokens.shape[-1]

    def ln(t, m):
        return F.layer_norm(t, (t.shape[-1], ), m.weight, m.bias, m.eps)

    attn = blk.attn
    v = ln(tokens[:, 1 + patch], blk.norm1) @ attn.v_proj.weight.T + \
        attn.v_proj.bias
    v = ln(v, attn.norm)
    y = extra + (v @ attn.proj.weight.T + attn.proj.bias)[:, None]
    mlp, h = blk.mlp, ln(y, blk.norm2)
    gate = h @ mlp.fc1_g.weight.T + mlp.fc1_g.bias
    h = F.silu(gate) * (h @ mlp.fc1_x.weight.T + mlp.fc1_x.bias)
    h = ln(h, mlp.norm)
    assert c == y.shape[-1]
    return y + h @ mlp.fc2.weight.T + mlp.fc2.bias


@pytest.mark.parametrize('name', ['openai', 'eva02'])
def test_a_token_reading_one_patch_equals_a_hand_computation(name):
    torch.manual_seed(0)
    if name == 'openai':
        model = OpenAICLIPViT(arch=dict(TINY_OPENAI, layers=1)).eval()
        by_hand = _one_patch_by_hand_openai
    else:
        model = EVA02CLIPViT(arch=dict(TINY_EVA, depth=1)).eval()
        by_hand = _one_patch_by_hand_eva
    x = torch.randn(2, 3, 32, 48)  # 4x6 patches
    extra = torch.randn(2, 1, model.embed_dim)
    for patch in (0, 7, 23):
        mask = torch.zeros(2, 1, 1 + 24, dtype=torch.bool)
        mask[:, :, 1 + patch] = True
        out = model.forward_tokens(
            x, extra_tokens=extra, extra_attn_mask=mask)[3]
        expected = by_hand(model, x, extra, patch)
        assert torch.allclose(out, expected, atol=1e-5), patch


@pytest.mark.parametrize('name', TOWERS)
def test_an_empty_mask_falls_back_to_the_class_token(name):
    torch.manual_seed(0)
    model = TOWERS[name]().eval()
    x, extra, mask = _inputs(model, q=2)
    mask[:, 0] = False  # empty
    mask[:, 1] = False
    mask[:, 1, 0] = True  # the class token only
    extra[:, 1] = extra[:, 0]
    out = model.forward_tokens(x, extra_tokens=extra, extra_attn_mask=mask)[3]
    assert out.isfinite().all()
    assert torch.allclose(out[:, 0], out[:, 1], atol=1e-6)


def test_extra_tokens_train_and_take_gradients():
    torch.manual_seed(0)
    model = tiny_openai(with_cp=True).train()
    x, extra, mask = _inputs(model)
    extra.requires_grad_(True)
    out = model.forward_tokens(x, extra_tokens=extra, extra_attn_mask=mask)[3]
    model.embed_tokens(out).sum().backward()
    assert extra.grad is not None and extra.grad.abs().sum() > 0
    q = model.blocks()[0].attn.q_proj.weight
    assert q.grad is not None and q.grad.abs().sum() > 0


def test_bad_extra_tokens_are_reported():
    model = tiny_openai().eval()
    x, extra, mask = _inputs(model)
    with pytest.raises(ValueError, match=r'\(B, Q, C\) = \(2, Q, 32\)'):
        model.forward_tokens(x, extra_tokens=extra[..., :8])
    with pytest.raises(ValueError, match=r'bool tensor of shape'):
        model.forward_tokens(
            x, extra_tokens=extra, extra_attn_mask=mask[..., 1:])
    with pytest.raises(ValueError, match=r'bool tensor of shape'):
        model.forward_tokens(
            x, extra_tokens=extra, extra_attn_mask=mask.float())
    with pytest.raises(ValueError, match='without extra_tokens'):
        model.forward_tokens(x, extra_attn_mask=mask)
    windowed = tiny_openai(window_attn=(2, 2)).eval()
    with pytest.raises(ValueError, match='without window_attn'):
        windowed.forward_tokens(x, extra_tokens=extra)
