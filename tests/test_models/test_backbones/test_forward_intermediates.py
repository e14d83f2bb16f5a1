# Copyright (c) mmclipself contributors. All rights reserved.
"""timm-style ``forward_intermediates`` on both towers."""
import pytest
import torch

from mmclipself.testing.towers import tiny_eva, tiny_openai

TOWERS = {'openai': tiny_openai, 'eva02': tiny_eva}


@pytest.mark.parametrize('name', TOWERS)
def test_shapes_formats_and_index_rules(name):
    torch.manual_seed(0)
    model = TOWERS[name]().eval()
    c = model.embed_dim
    x = torch.randn(2, 3, 32, 48)  # 4x6 grid
    final, inter = model.forward_intermediates(x)
    assert final.shape == (2, 1 + 24, c)
    assert [t.shape for t in inter] == [(2, c, 4, 6)] * 3
    last2 = model.forward_intermediates(x, indices=2, intermediates_only=True)
    assert all(torch.equal(a, b) for a, b in zip(last2, inter[1:]))
    neg = model.forward_intermediates(
        x, indices=[-1, 0], output_fmt='NLC', intermediates_only=True)
    assert [t.shape for t in neg] == [(2, 24, c)] * 2
    assert torch.equal(neg[0].transpose(1, 2).reshape(2, c, 4, 6), inter[2])
    pairs = model.forward_intermediates(
        x, indices=[1], return_prefix_tokens=True, intermediates_only=True)
    spatial, prefix = pairs[0]
    assert torch.equal(spatial, inter[1]) and prefix.shape == (2, 1, c)
    early = model.forward_intermediates(
        x, indices=[0], stop_early=True, intermediates_only=True)
    assert torch.equal(early[0], inter[0])
    # the raw block outputs: tokens of forward_tokens, class token dropped
    tokens, _, taps = model.forward_tokens(x, taps=(0, 1, 2))
    assert torch.equal(model._final_norm(tokens), final)
    normed = model.forward_intermediates(
        x, indices=[1], norm=True, output_fmt='NLC', intermediates_only=True)
    assert torch.equal(normed[0], model._final_norm(taps[1])[:, 1:])


@pytest.mark.parametrize('name', TOWERS)
def test_equals_the_featmap_taps(name):
    torch.manual_seed(0)
    model = TOWERS[name](out_type='featmaps', out_indices=(0, 1, 2)).eval()
    x = torch.randn(1, 3, 48, 32)
    maps = model.forward_featmaps(x)  # a tap at the last block: value-only
    inter = model.forward_intermediates(
        x, indices=(0, 1, 2), intermediates_only=True, value_only_last=True)
    assert all(torch.equal(a, b) for a, b in zip(maps, inter))
    plain = model.forward_intermediates(x, intermediates_only=True)
    assert torch.equal(plain[1], maps[1])
    assert not torch.allclose(plain[2], maps[2], atol=1e-3)


def test_matches_the_libraries_own_forward_intermediates():
    torch.manual_seed(0)
    eva, openai = tiny_eva().eval(), tiny_openai().eval()
    x = torch.randn(2, 3, 32, 32)  # native size: no position resizing
    ours = eva.forward_intermediates(x, indices=[0, 2], norm=True)
    ref = eva.trunk.forward_intermediates(x, indices=[0, 2], norm=True)
    assert torch.allclose(ours[0], ref[0], atol=1e-5)
    for a, b in zip(ours[1], ref[1]):
        assert torch.allclose(a, b, atol=1e-5)
    ours = openai.forward_intermediates(x, indices=2, intermediates_only=True)
    ref = openai.visual.forward_intermediates(
        x, indices=2, intermediates_only=True)['image_intermediates']
    for a, b in zip(ours, ref):
        assert torch.allclose(a, b, atol=1e-5)


def test_bad_arguments_are_reported():
    model = tiny_openai().eval()
    x = torch.randn(1, 3, 32, 32)
    with pytest.raises(ValueError, match='output_fmt'):
        model.forward_intermediates(x, output_fmt='NHWC')
    with pytest.raises(ValueError, match='last-n'):
        model.forward_intermediates(x, indices=4)
    with pytest.raises(ValueError, match='out of range'):
        model.forward_intermediates(x, indices=[3])
    with pytest.raises(ValueError, match='stop_early'):
        model.forward_intermediates(x, indices=[0], stop_early=True)
