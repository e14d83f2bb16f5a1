# Copyright (c) mmclipself contributors. All rights reserved.
from typing import Optional, Sequence, Tuple

import torch
import torch.nn as nn
import torch.nn.functional as F
from torch import Tensor

from .guided_linear import guided_linear
from .linear_attention import linear_attention


class ClassAggregation(nn.Module):
    """Cat-Seg's class aggregation: attention across classes per location.

    Follows segmentation_facts.md §2.2 ("Class"):

    1. ``AvgPool2d(pooling)`` of every class slice (``pooling_size`` in
       training, ``test_pooling_size`` at eval, chosen by
       ``self.training``; the release's ``(2, 2)`` / ``(1, 1)``);
    2. one sequence per pooled location whose tokens are the classes;
       pre-LN linear attention (``elu + 1``) with ``q, k`` from
       ``cat(tokens, text guidance)`` and ``v`` from the tokens, no output
       projection, residual; pre-LN MLP (``4x``, ReLU), residual;
    3. bilinear upsampling (``align_corners=True``) back to the input size;
    4. **the result is added to the un-pooled input**, so the identity path
       counts twice (``out = x + (x_pooled + attn + mlp)``): the release
       codes it this way and it is reproduced on purpose.

    With ``pad_len`` (CVPR'24), a vocabulary of ``T < pad_len`` classes is
    padded to ``pad_len`` tokens with a learnable token and a learnable
    text guidance (both zero-initialised as in the release) before the
    attention; the padding tokens are keys and values of the real classes
    and are dropped afterwards. ``T >= pad_len`` is not padded (the head
    selects ``pad_len`` classes first when ``T > pad_len``).

    Args:
        channels: Token channels (``hidden``, 128).
        guidance_channels: Projected text guidance channels (128).
        num_heads: Attention heads (4).
        pooling_size: Pooling kernel (= stride) in training.
        test_pooling_size: Pooling kernel at eval.
        pad_len: Class-sequence length to pad to, or ``None``.
    """

    def __init__(self,
                 channels: int,
                 guidance_channels: int,
                 num_heads: int,
                 pooling_size: Sequence[int] = (2, 2),
                 test_pooling_size: Sequence[int] = (1, 1),
                 pad_len: Optional[int] = None) -> None:
        super().__init__()
        self.num_heads = num_heads
        self.pooling_size = tuple(pooling_size)
        self.test_pooling_size = tuple(test_pooling_size)
        self.pad_len = pad_len
        self.norm1 = nn.LayerNorm(channels)
        self.q = nn.Linear(channels + guidance_channels, channels)
        self.k = nn.Linear(channels + guidance_channels, channels)
        self.v = nn.Linear(channels, channels)
        self.norm2 = nn.LayerNorm(channels)
        self.mlp = nn.Sequential(
            nn.Linear(channels, 4 * channels), nn.ReLU(),
            nn.Linear(4 * channels, channels))
        if pad_len:
            self.padding_token = nn.Parameter(torch.zeros(channels))
            self.padding_guidance = nn.Parameter(
                torch.zeros(guidance_channels))

    @property
    def pooling(self) -> Tuple[int, int]:
        """The pooling kernel of the current mode."""
        return self.pooling_size if self.training else self.test_pooling_size

    def forward(self, x: Tensor, guidance: Tensor) -> Tensor:
        """Aggregate over classes.

        Args:
            x: Tokens ``(B, T, H, W, C)``.
            guidance: Projected text guidance ``(B, T, G)`` or
                ``(1, T, G)``.

        Returns:
            Tensor: ``(B, T, H, W, C)``.
        """
        b, t, h, w, c = x.shape
        pool = self.pooling
        pooled = pool != (1, 1)
        if pooled:
            if h % pool[0] or w % pool[1]:
                raise ValueError(
                    f'Cat-Seg class aggregation: feature map {h}x{w} is not '
                    f'divisible by the pooling size {pool}')
            y = F.avg_pool2d(
                x.reshape(b * t, h, w, c).permute(0, 3, 1, 2), pool)
            hp, wp = y.shape[-2:]
            y = y.view(b, t, c, hp, wp).permute(0, 3, 4, 1, 2)
        else:
            hp, wp = h, w
            y = x.permute(0, 2, 3, 1, 4)  # (B, H, W, T, C)
        n_pad = (self.pad_len or 0) - t
        if n_pad > 0:
            y = torch.cat(
                [y, self.padding_token.expand(b, hp, wp, n_pad, c)], dim=3)
            guidance = torch.cat([
                guidance,
                self.padding_guidance.expand(guidance.size(0), n_pad, -1)
            ], 1)
        g = guidance[:, None, None]  # (B or 1, 1, 1, T', G)
        yn = self.norm1(y)
        y = y + linear_attention(
            guided_linear(yn, g, self.q), guided_linear(yn, g, self.k),
            self.v(yn), self.num_heads)
        y = y + self.mlp(self.norm2(y))
        y = y[:, :, :, :t].permute(0, 3, 1, 2, 4)  # (B, T, hp, wp, C)
        if pooled:
            y = F.interpolate(
                y.reshape(b * t, hp, wp, c).permute(0, 3, 1, 2), (h, w),
                mode='bilinear',
                align_corners=True)
            y = y.view(b, t, c, h, w).permute(0, 1, 3, 4, 2)
        return x + y
