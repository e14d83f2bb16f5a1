# Copyright (c) mmclipself contributors. All rights reserved.
"""Both CLIP towers: the dense map of paper §3.1, outputs, freezing."""
import pytest
import torch
import torch.nn.functional as F

from mmclipself.testing.towers import tiny_eva, tiny_eva_fused_qkv, tiny_openai

TOWERS = {'eva02': tiny_eva, 'openai': tiny_openai}


def _self_only_mask(n):
    """Attention mask letting each token attend to itself only."""
    mask = torch.full((n, n), float('-inf'))
    mask.fill_diagonal_(0.)
    return mask


def _dense_by_self_attention(model, x, skip='token'):
    """Paper §3.1 recomputed independently.

    Dropping query-key attention in the last block is the same as letting
    every token attend only to itself: softmax of a diagonal mask is the
    identity, so the block computes ``x + Proj(v)`` and then its FFN. We run
    the tower's *own* attention modules with that mask.
    """
    tokens, grid, kw = model._embed(x)
    blocks = model.blocks()
    for blk in blocks[:-1]:
        tokens = blk(tokens, **kw)
    last, n = blocks[-1], tokens.shape[1]
    # Cat-Seg CVPR'24: the class token's input is every token's skip input
    res = tokens[:, :1].expand_as(tokens) if skip == 'cls' else tokens
    if hasattr(last, 'ln_1'):  # open_clip ResidualAttentionBlock
        h = last.ln_1(tokens)
        y = res + last.attn(
            h, h, h, need_weights=False, attn_mask=_self_only_mask(n))[0]
        z = y + last.mlp(last.ln_2(y))
        z = model.visual.ln_post(z[:, 1:]) @ model.visual.proj
    else:  # timm EvaBlock
        y = res + last.attn(
            last.norm1(tokens), rope=kw['rope'], attn_mask=_self_only_mask(n))
        z = y + last.mlp(last.norm2(y))
        z = model.trunk.head(model.trunk.norm(z[:, 1:]))
    z = F.normalize(z, dim=-1)
    return z.transpose(1, 2).reshape(x.shape[0], -1, *grid)


@pytest.mark.parametrize('name', [*TOWERS, 'eva02-fused-qkv'])
@pytest.mark.parametrize('size', [(32, 32), (48, 64)])
def test_dense_map_equals_paper_formula(name, size):
    torch.manual_seed(0)
    model = dict(TOWERS, **{'eva02-fused-qkv': tiny_eva_fused_qkv})[name]()
    model.eval()
    x = torch.randn(2, 3, *size)
    dense = model.forward_dense(x)
    p = model.patch_size
    assert dense.shape == (2, model.output_dim, size[0] // p, size[1] // p)
    assert torch.allclose(dense.norm(dim=1), torch.ones(1), atol=1e-5)
    expected = _dense_by_self_attention(model, x)
    assert torch.allclose(dense, expected, atol=1e-5)


@pytest.mark.parametrize('name', [*TOWERS, 'eva02-fused-qkv'])
def test_dense_map_with_the_class_token_skip(name):
    """``dense_residual='cls'`` (Cat-Seg CVPR'24, facts §1.1)."""
    torch.manual_seed(0)
    build = dict(TOWERS, **{'eva02-fused-qkv': tiny_eva_fused_qkv})[name]
    model = build(dense_residual='cls').eval()
    x = torch.randn(2, 3, 32, 48)
    dense = model.forward_dense(x)
    expected = _dense_by_self_attention(model, x, skip='cls')
    assert torch.allclose(dense, expected, atol=1e-5)
    # and it is not the per-token skip
    model.dense_residual = 'token'
    assert not torch.allclose(model.forward_dense(x), dense, atol=1e-3)
    with pytest.raises(ValueError, match="dense_residual must be"):
        build(dense_residual='patch')


@pytest.mark.parametrize('name', TOWERS)
def test_dense_differs_from_full_attention(name):
    # guards against a dense path that silently keeps the attention
    torch.manual_seed(0)
    model = TOWERS[name]().eval()
    x = torch.randn(1, 3, 32, 32)
    tokens, grid, _ = model.forward_tokens(x)
    with_attn = model.dense_from_tokens(tokens, grid)
    assert not torch.allclose(with_attn, model.forward_dense(x), atol=1e-3)


def test_image_embedding_matches_the_wrapped_libraries_at_native_size():
    torch.manual_seed(0)
    eva, openai = tiny_eva().eval(), tiny_openai().eval()
    x = torch.randn(2, 3, 32, 32)
    assert torch.allclose(eva.forward_image(x), eva.trunk(x), atol=1e-5)
    assert torch.allclose(openai.forward_image(x), openai.visual(x), atol=1e-5)


@pytest.mark.parametrize('name', TOWERS)
def test_featmaps_taps_and_dense_in_one_pass(name):
    torch.manual_seed(0)
    model = TOWERS[name](out_indices=[0, -1], out_type='featmaps').eval()
    x = torch.randn(1, 3, 40, 56)
    maps = model(x)
    assert [m.shape for m in maps] == [(1, model.embed_dim, 5, 7)] * 2
    maps2, dense = model.forward_featmaps(x, with_dense=True)
    assert all(torch.equal(a, b) for a, b in zip(maps, maps2))
    assert torch.allclose(dense, model.forward_dense(x), atol=1e-6)
    # the tap at the last block comes from the value-only block (release)
    tokens, grid, _ = model.forward_tokens(x, value_only_last=True)
    assert torch.allclose(maps[1], model._tokens_to_map(tokens[:, 1:], grid))


@pytest.mark.parametrize('name', TOWERS)
def test_train_blocks_freezing(name):
    model = TOWERS[name]()  # release default: all blocks train
    assert model.trainable_block_indices == (0, 1, 2)
    assert all(not p.requires_grad for p in model.non_block_parameters())
    assert all(p.requires_grad for p in model.blocks().parameters())

    model = TOWERS[name](train_blocks=1)  # paper Table 1b: last k blocks
    flags = [
        all(p.requires_grad for p in b.parameters()) for b in model.blocks()
    ]
    assert flags == [False, False, True]

    frozen = TOWERS[name](train_blocks=[])  # e.g. F-ViT's frozen backbone
    assert not any(p.requires_grad for p in frozen.parameters())
    frozen.train()
    assert not frozen.training  # a frozen encoder stays in eval mode
    with pytest.raises(ValueError, match='train_blocks'):
        TOWERS[name](train_blocks=[5]).trainable_block_indices


@pytest.mark.parametrize('name', TOWERS)
def test_activation_checkpointing_gives_the_same_gradients(name):
    torch.manual_seed(0)
    plain = TOWERS[name]()
    ckpt = TOWERS[name](with_cp=True)
    ckpt.load_state_dict(plain.state_dict())
    x = torch.randn(2, 3, 32, 48)
    grads = []
    for model in (plain, ckpt):
        model.train()
        model.forward_dense(x).square().sum().backward()
        grads.append([p.grad for p in model.blocks().parameters()])
    assert sum(g is not None for g in grads[0]) > 0
    for a, b in zip(*grads):
        # the last block's query/key get no gradient on the dense path
        assert (a is None) == (b is None)
        assert a is None or torch.allclose(a, b, atol=1e-5)


@pytest.mark.parametrize('name', TOWERS)
def test_bad_inputs_are_named(name):
    model = TOWERS[name]()
    with pytest.raises(ValueError, match=r'\(36, 32\).*patch size 8'):
        model(torch.randn(1, 3, 36, 32))
    with pytest.raises(ValueError, match=r'\(1, 1, 32, 32\)'):
        model(torch.randn(1, 1, 32, 32))
    with pytest.raises(ValueError, match='out_type'):
        TOWERS[name](out_type='cls')
    with pytest.raises(ValueError, match='out_indices'):
        TOWERS[name](out_type='featmaps')(torch.randn(1, 3, 32, 32))
