# Copyright (c) mmclipself contributors. All rights reserved.
import torch
import torch.nn.functional as F

from mmclipself.models.catseg import CostEmbedding, cost_volume


def _loop_cost(dense, text):
    b, c, h, w = dense.shape
    _, t, p, _ = text.shape
    out = torch.zeros(b, p, t, h, w)
    for i in range(b):
        ti = text[i if text.size(0) > 1 else 0]
        for j in range(t):
            for k in range(p):
                for y in range(h):
                    for x in range(w):
                        f = dense[i, :, y, x]
                        e = ti[j, k]
                        out[i, k, j, y, x] = (f @ e) / (f.norm() * e.norm())
    return out


def test_cost_volume_equals_loop():
    torch.manual_seed(0)
    dense = torch.randn(2, 6, 3, 4)
    text = torch.randn(2, 5, 3, 6)
    torch.testing.assert_close(
        cost_volume(dense, text), _loop_cost(dense, text))
    shared = torch.randn(1, 5, 3, 6)
    torch.testing.assert_close(
        cost_volume(dense, shared), _loop_cost(dense, shared))


def test_cost_embedding_is_a_per_class_conv():
    torch.manual_seed(0)
    embed = CostEmbedding(num_templates=3, hidden_channels=4)
    cost = torch.randn(2, 3, 5, 6, 7)
    out = embed(cost)
    assert out.shape == (2, 5, 6, 7, 4)
    for b in range(2):
        for t in range(5):
            ref = F.conv2d(
                cost[b, :, t][None],
                embed.conv.weight,
                embed.conv.bias,
                padding=3)[0]
            torch.testing.assert_close(out[b, t], ref.permute(1, 2, 0))
    assert embed.conv.kernel_size == (7, 7)
