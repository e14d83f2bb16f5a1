# Copyright (c) mmclipself contributors. All rights reserved.
import pytest
import torch
import torch.nn.functional as F

from mmclipself.models import CLIPTapGuidance


def test_transposed_convs_upsample_each_tap():
    torch.manual_seed(0)
    neck = CLIPTapGuidance(in_channels=6, out_channels=(4, 3), scales=(2, 4))
    taps = [torch.randn(2, 6, 3, 5), torch.randn(2, 6, 3, 5)]
    out = neck(taps)
    assert [tuple(o.shape) for o in out] == [(2, 4, 6, 10), (2, 3, 12, 20)]
    # kernel = stride: each input pixel writes its own s x s block,
    # out[b, o, s*i + u, s*j + v] = sum_c x[b, c, i, j] W[c, o, u, v] + b[o]
    up = neck.upsamples[1]
    x = taps[1]
    hand = torch.einsum('bcij,couv->boiujv', x, up.weight).reshape(
        2, 3, 12, 20) + up.bias.view(1, 3, 1, 1)
    torch.testing.assert_close(out[1], hand)
    torch.testing.assert_close(
        out[0],
        F.conv_transpose2d(
            taps[0],
            neck.upsamples[0].weight,
            neck.upsamples[0].bias,
            stride=2))


def test_wrong_taps_fail_clearly():
    neck = CLIPTapGuidance(in_channels=6)
    with pytest.raises(ValueError, match='expects 2 taps'):
        neck([torch.zeros(1, 6, 2, 2)])
    with pytest.raises(ValueError, match=r'tap 1 must be \(B, 6'):
        neck([torch.zeros(1, 6, 2, 2), torch.zeros(1, 5, 2, 2)])
    with pytest.raises(ValueError, match='one scale per output'):
        CLIPTapGuidance(in_channels=6, out_channels=(1, 2), scales=(2, ))
