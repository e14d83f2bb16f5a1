# Copyright (c) mmclipself contributors. All rights reserved.
"""SplitQKVAttention: nn.MultiheadAttention's numbers with split q/k/v."""
import pytest
import torch
import torch.nn as nn
from mmengine.runner.checkpoint import load_state_dict as mmengine_load

from mmclipself.models.layers import (SplitQKVAttention, pack_qkv_keys,
                                      split_packed_attention, split_qkv_keys)


def _mha(batch_first=True, dim=32, heads=4):
    torch.manual_seed(0)
    mha = nn.MultiheadAttention(dim, heads, batch_first=batch_first)
    with torch.no_grad():  # non-zero biases so that every slice matters
        mha.in_proj_bias.normal_()
        mha.out_proj.bias.normal_()
    return mha


@pytest.mark.parametrize('need_weights', [False, True])
def test_equals_multihead_attention(need_weights):
    mha = _mha().eval()
    split = SplitQKVAttention.from_mha(mha).eval()
    x, y = torch.randn(2, 7, 32), torch.randn(2, 5, 32)
    blocked = torch.rand(7, 5) > 0.5
    blocked[:, 0] = False  # every query keeps a key
    pad = torch.zeros(2, 5, dtype=torch.bool)
    pad[1, 4] = True
    additive = torch.randn(2 * 4, 7, 5)
    cases = [
        dict(query=x, key=x, value=x),  # self-attention (open_clip blocks)
        dict(query=x, key=y, value=y),
        dict(query=x, key=y, value=y, attn_mask=blocked),
        dict(query=x, key=y, value=y, key_padding_mask=pad),
        dict(query=x, key=y, value=y, attn_mask=additive),
        dict(query=x, key=y, value=y, attn_mask=blocked.float() * -1e4),
    ]
    for kwargs in cases:
        out, w = mha(need_weights=need_weights, **kwargs)
        out2, w2 = split(need_weights=need_weights, **kwargs)
        assert torch.allclose(out, out2, atol=1e-5)
        if need_weights:
            assert torch.allclose(w, w2, atol=1e-6)
        else:
            assert w2 is None
    per_head = mha(x, y, y, average_attn_weights=False)[1]
    per_head2 = split(x, y, y, average_attn_weights=False)[1]
    assert per_head2.shape == (2, 4, 7, 5)
    assert torch.allclose(per_head, per_head2, atol=1e-6)


def test_sequence_first_and_gradients():
    mha = _mha(batch_first=False)
    split = SplitQKVAttention.from_mha(mha)
    x = torch.randn(7, 2, 32, requires_grad=True)
    out = mha(x, x, x, need_weights=False)[0]
    out2 = split(x, x, x, need_weights=False)[0]
    assert out2.shape == (7, 2, 32)
    assert torch.allclose(out, out2, atol=1e-5)
    g = torch.randn_like(out)
    (grad, ) = torch.autograd.grad(out, x, g)
    (grad2, ) = torch.autograd.grad(out2, x, g)
    assert torch.allclose(grad, grad2, atol=1e-5)


def test_packed_keys_load_strictly_and_pack_back():
    mha = _mha()
    packed = mha.state_dict()
    assert set(packed) == {
        'in_proj_weight', 'in_proj_bias', 'out_proj.weight', 'out_proj.bias'
    }
    split = SplitQKVAttention(32, 4)
    split.load_state_dict(packed, strict=True)
    assert torch.equal(split.q_proj.weight, packed['in_proj_weight'][:32])
    assert torch.equal(split.k_proj.weight, packed['in_proj_weight'][32:64])
    assert torch.equal(split.v_proj.bias, packed['in_proj_bias'][64:])
    x = torch.randn(2, 6, 32)
    assert torch.allclose(split(x, x, x)[0], mha.eval()(x, x, x)[0], atol=1e-5)
    # the split keys load too, and pack back to the very same tensors
    assert set(split.state_dict()) == {
        f'{p}.{k}'
        for p in ('q_proj', 'k_proj', 'v_proj', 'out_proj')
        for k in ('weight', 'bias')
    }
    SplitQKVAttention(32, 4).load_state_dict(split.state_dict(), strict=True)
    back = pack_qkv_keys(split.state_dict())
    assert list(back) == list(packed)
    assert all(torch.equal(back[k], v) for k, v in packed.items())
    unpacked = split_qkv_keys(packed)
    assert set(unpacked) == set(split.state_dict())
    assert all(
        torch.equal(unpacked[k], v) for k, v in split.state_dict().items())
    assert split_qkv_keys({'x.in_proj_weight': packed['in_proj_weight']},
                          prefixes=('y.', )) == {
                              'x.in_proj_weight': packed['in_proj_weight']
                          }


def test_nested_packed_keys_load_with_torch_and_mmengine():
    # old checkpoints hold packed keys deep inside a model
    parent = nn.Sequential(nn.Linear(32, 32), nn.Sequential(_mha()))
    state = parent.state_dict()
    assert '1.0.in_proj_weight' in state
    split_packed_attention(parent)
    assert isinstance(parent[1][0], SplitQKVAttention)
    target = nn.Sequential(
        nn.Linear(32, 32), nn.Sequential(SplitQKVAttention(32, 4)))
    target.load_state_dict(state, strict=True)
    other = nn.Sequential(
        nn.Linear(32, 32), nn.Sequential(SplitQKVAttention(32, 4)))
    mmengine_load(other, state, strict=True)
    for a, b in zip(target.state_dict().values(), other.state_dict().values()):
        assert torch.equal(a, b)
    for a, b in zip(parent.state_dict().values(),
                    target.state_dict().values()):
        assert torch.equal(a, b)


def test_split_packed_attention_keeps_numbers_and_flags():
    mha = _mha().eval()
    mha.in_proj_weight.requires_grad_(False)
    model = nn.Sequential(mha)
    x = torch.randn(1, 4, 32)
    before = model[0](x, x, x, need_weights=False)[0]
    split_packed_attention(model)
    assert isinstance(model[0], SplitQKVAttention)
    assert not model[0].training
    assert not model[0].q_proj.weight.requires_grad
    assert model[0].out_proj.weight.requires_grad
    assert torch.allclose(
        before, model[0](x, x, x, need_weights=False)[0], atol=1e-5)
    with pytest.raises(ValueError, match='kdim'):
        split_packed_attention(nn.MultiheadAttention(8, 2, kdim=4, vdim=4))


def test_scripts_like_openai_archives():
    split = SplitQKVAttention.from_mha(_mha()).eval()
    scripted = torch.jit.script(split)
    x = torch.randn(2, 5, 32)
    assert torch.allclose(
        scripted(x, x, x, need_weights=False)[0],
        split(x, x, x, need_weights=False)[0],
        atol=1e-6)


def test_bad_inputs_are_reported():
    split = SplitQKVAttention(32, 4)
    with pytest.raises(ValueError, match='not divisible'):
        SplitQKVAttention(30, 4)
    x = torch.randn(1, 3, 32)
    with pytest.raises(RuntimeError, match='is_causal'):
        split(x, x, x, is_causal=True)
    with pytest.raises(ValueError, match=r'attn_mask must be'):
        split(x, x, x, attn_mask=torch.zeros(1, 1, 1, 3, 3))
    state = dict(_mha().state_dict())
    state['q_proj.weight'] = state['in_proj_weight'][:32]
    with pytest.raises(RuntimeError, match='expected one layout'):
        split.load_state_dict(state)
    with pytest.raises(KeyError, match=r"missing \['a.k_proj.weight'"):
        pack_qkv_keys({
            'a.q_proj.weight': torch.zeros(1),
            'a.v_proj.weight': torch.zeros(1)
        })
    with pytest.raises(KeyError, match='no matching q_proj'):
        pack_qkv_keys({'a.v_proj.weight': torch.zeros(1)})
    # keys outside ``prefixes`` pass through untouched (EVA02 blocks)
    eva = {'trunk.attn.q_proj.weight': torch.zeros(1)}
    assert pack_qkv_keys(eva, prefixes=('visual.', )) == eva
