# Copyright (c) mmclipself contributors. All rights reserved.
import pytest
import torch
import torch.nn.functional as F

from mmclipself.models.catseg import ClassAggregation


def _phi(x):
    return torch.where(x > 0, x + 1, torch.exp(x))


def _naive(layer, x, guidance, pool):
    """Loop over pooled locations; true concatenation and padding."""
    b, t, h, w, c = x.shape
    ph, pw = pool
    hp, wp = h // ph, w // pw
    heads = layer.num_heads
    d = c // heads
    pooled = torch.zeros(b, t, hp, wp, c)
    for i in range(hp):
        for j in range(wp):
            pooled[:, :, i, j] = x[:, :, i * ph:(i + 1) * ph,
                                   j * pw:(j + 1) * pw].mean((2, 3))
    n_pad = (layer.pad_len or 0) - t
    out = torch.zeros_like(pooled)
    for bi in range(b):
        g = guidance[bi if guidance.size(0) > 1 else 0]
        for i in range(hp):
            for j in range(wp):
                tok = pooled[bi, :, i, j]
                gd = g
                if n_pad > 0:
                    tok = torch.cat(
                        [tok, layer.padding_token.expand(n_pad, c)])
                    gd = torch.cat(
                        [gd, layer.padding_guidance.expand(n_pad, -1)])
                tn = layer.norm1(tok)
                cat = torch.cat([tn, gd], 1)
                q = cat @ layer.q.weight.T + layer.q.bias
                k = cat @ layer.k.weight.T + layer.k.bias
                v = tn @ layer.v.weight.T + layer.v.bias
                att = torch.zeros_like(tok)
                for hh in range(heads):
                    sl = slice(hh * d, (hh + 1) * d)
                    a = _phi(q[:, sl]) @ _phi(k[:, sl]).T
                    att[:, sl] = (a @ v[:, sl]) / (
                        a.sum(1, keepdim=True) + 1e-6)
                y = tok + att
                y = y + layer.mlp(layer.norm2(y))
                out[bi, :, i, j] = y[:t]
    up = F.interpolate(
        out.permute(0, 1, 4, 2, 3).flatten(0, 1), (h, w),
        mode='bilinear',
        align_corners=True).view(b, t, c, h, w).permute(0, 1, 3, 4, 2)
    return x + up  # the release's double identity


@pytest.mark.parametrize('pad_len', [None, 5])
@pytest.mark.parametrize('training', [True, False])
def test_class_aggregation_equals_naive(pad_len, training):
    torch.manual_seed(0)
    layer = ClassAggregation(
        8,
        6,
        num_heads=2,
        pooling_size=(2, 2),
        test_pooling_size=(1, 1),
        pad_len=pad_len)
    if pad_len:
        with torch.no_grad():  # non-zero padding so it matters
            layer.padding_token.normal_()
            layer.padding_guidance.normal_()
    layer.train(training)
    x = torch.randn(2, 3, 4, 6, 8)
    guidance = torch.randn(2, 3, 6)
    with torch.no_grad():
        out = layer(x, guidance)
        ref = _naive(layer, x, guidance, (2, 2) if training else (1, 1))
        torch.testing.assert_close(out, ref, rtol=1e-4, atol=1e-5)
        shared = layer(x, guidance[:1])
        torch.testing.assert_close(
            shared,
            _naive(layer, x, guidance[:1], (2, 2) if training else (1, 1)),
            rtol=1e-4,
            atol=1e-5)
    if pad_len:  # the padding tokens change the real classes' output
        unpadded = ClassAggregation(8, 6, 2, (2, 2), (1, 1), None)
        unpadded.load_state_dict(layer.state_dict(), strict=False)
        unpadded.train(training)
        with torch.no_grad():
            assert not torch.allclose(unpadded(x, guidance), out, atol=1e-4)


def test_identity_counts_twice():
    """With zero attention and MLP outputs the eval output is 2x."""
    layer = ClassAggregation(8, 6, num_heads=2).eval()
    with torch.no_grad():
        for lin in (layer.v, layer.mlp[2]):
            lin.weight.zero_()
            lin.bias.zero_()
        x = torch.randn(1, 3, 4, 4, 8)
        torch.testing.assert_close(layer(x, torch.randn(1, 3, 6)), 2 * x)


def test_pooling_must_divide():
    layer = ClassAggregation(8, 6, num_heads=2, pooling_size=(3, 3)).train()
    with pytest.raises(ValueError, match='pooling size'):
        layer(torch.randn(1, 2, 4, 4, 8), torch.randn(1, 2, 6))
