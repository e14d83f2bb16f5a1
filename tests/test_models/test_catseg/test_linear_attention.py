# Copyright (c) mmclipself contributors. All rights reserved.
import math

import torch

from mmclipself.models.catseg import linear_attention


def _phi(x):
    return torch.where(x > 0, x + 1, torch.exp(x))


def test_linear_attention_equals_naive_formula():
    torch.manual_seed(0)
    n, length, heads, d = 3, 5, 2, 4
    q = torch.randn(n, length, heads * d)
    k = torch.randn(n, length, heads * d)
    v = torch.randn(n, length, heads * d)
    out = linear_attention(q, k, v, heads)
    ref = torch.zeros_like(out)
    for i in range(n):
        for h in range(heads):
            sl = slice(h * d, (h + 1) * d)
            for l_ in range(length):
                qf = _phi(q[i, l_, sl])
                num = torch.zeros(d)
                den = 0.0
                for s in range(length):
                    a = float(qf @ _phi(k[i, s, sl]))
                    num += a * v[i, s, sl]
                    den += a
                ref[i, l_, sl] = num / (den + 1e-6)
    torch.testing.assert_close(out, ref)
    assert math.isfinite(float(out.sum()))
