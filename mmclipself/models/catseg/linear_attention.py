# Copyright (c) mmclipself contributors. All rights reserved.
import torch
import torch.nn.functional as F
from torch import Tensor


def linear_attention(q: Tensor,
                     k: Tensor,
                     v: Tensor,
                     num_heads: int,
                     eps: float = 1e-6) -> Tensor:
    """Multi-head linear attention with the ``elu + 1`` feature map.

    For each head, with ``phi(x) = elu(x) + 1``::

        out_l = sum_s (phi(q_l) . phi(k_s)) v_s
                / (phi(q_l) . sum_s phi(k_s) + eps)

    ("Transformers are RNNs"; follows segmentation_facts.md §2.2, "Class").
    As in the release, the values are divided by the sequence length before
    the sums and the result multiplied back (keeps fp16 sums in range; the
    same value otherwise).

    Args:
        q: Queries ``(..., L, C)``.
        k: Keys ``(..., S, C)``.
        v: Values ``(..., S, C)``.
        num_heads: Heads; ``C`` divisible by it.
        eps: Added to the normaliser.

    Returns:
        Tensor: ``(..., L, C)``.
    """
    c = q.size(-1)
    if c % num_heads:
        raise ValueError(f'linear_attention: {c} channels not divisible by '
                         f'{num_heads} heads')
    d = c // num_heads
    qf = F.elu(q.unflatten(-1, (num_heads, d))) + 1
    kf = F.elu(k.unflatten(-1, (num_heads, d))) + 1
    length = v.size(-2)
    vh = v.unflatten(-1, (num_heads, -1)) / length
    kv = torch.einsum('...shd,...she->...hde', kf, vh)
    z = 1 / (torch.einsum('...lhd,...hd->...lh', qf, kf.sum(dim=-3)) + eps)
    out = torch.einsum('...lhd,...hde->...lhe', qf, kv) * z.unsqueeze(-1)
    return (out * length).flatten(-2)
