# Copyright (c) mmclipself contributors. All rights reserved.
from typing import Tuple

import torch
import torch.nn as nn
import torch.nn.functional as F
from torch import Tensor

from .guided_linear import guided_linear
from .window_ops import shifted_window_mask, window_partition, window_reverse


class GuidedSwinBlock(nn.Module):
    """A Swin block with appearance guidance on queries and keys.

    Follows segmentation_facts.md §2.2 ("Spatial"): pre-LN window attention
    (W-MSA for ``shift=0``, SW-MSA with the -100 shifted-window mask
    otherwise) without relative-position bias or drop-path, then a pre-LN
    MLP (ratio 4, GELU). The guidance (already layer-normalised by the
    caller) is concatenated to the normalised tokens for ``q`` and ``k``
    only; ``v`` sees the tokens alone. The concatenation is computed as a
    split product (:func:`guided_linear`), so the guidance of an image is
    projected once for all its classes. Attention runs through
    ``torch.nn.functional.scaled_dot_product_attention``.

    As in the release, a map no larger than the window on its short side
    is attended as one window of that side, without shift.

    Args:
        channels: Token channels (``hidden``, 128).
        guidance_channels: Appearance guidance channels (128).
        num_heads: Attention heads (4).
        window_size: Window side (12).
        shift: Cyclic shift (0, or ``window_size // 2``).
    """

    def __init__(self, channels: int, guidance_channels: int, num_heads: int,
                 window_size: int, shift: int) -> None:
        super().__init__()
        if channels % num_heads:
            raise ValueError(f'GuidedSwinBlock: channels {channels} not '
                             f'divisible by num_heads {num_heads}')
        if not 0 <= shift < window_size:
            raise ValueError(f'GuidedSwinBlock: shift {shift} must be in '
                             f'[0, window_size={window_size})')
        self.num_heads = num_heads
        self.window_size = window_size
        self.shift = shift
        self.norm1 = nn.LayerNorm(channels)
        self.q = nn.Linear(channels + guidance_channels, channels)
        self.k = nn.Linear(channels + guidance_channels, channels)
        self.v = nn.Linear(channels, channels)
        self.proj = nn.Linear(channels, channels)
        self.norm2 = nn.LayerNorm(channels)
        self.mlp = nn.Sequential(
            nn.Linear(channels, 4 * channels), nn.GELU(),
            nn.Linear(4 * channels, channels))

    def _window(self, height: int, width: int) -> Tuple[int, int]:
        """Window side and shift used for a ``height x width`` map."""
        window, shift = self.window_size, self.shift
        if min(height, width) <= window:
            window, shift = min(height, width), 0
        if height % window or width % window:
            raise ValueError(
                f'Cat-Seg spatial aggregation: feature map {height}x{width} '
                f'is not divisible by the window size {window}')
        return window, shift

    def _heads(self, x: Tensor) -> Tensor:
        """``(nW, N, L, C)`` -> ``(nW, N * heads, L, C // heads)``."""
        nw, n, length, c = x.shape
        x = x.reshape(nw, n, length, self.num_heads, c // self.num_heads)
        return x.transpose(2, 3).reshape(nw, n * self.num_heads, length, -1)

    def forward(self, x: Tensor, guidance: Tensor) -> Tensor:
        """Run the block on every class slice.

        Args:
            x: Tokens ``(B, T, H, W, C)``.
            guidance: Normalised appearance guidance ``(B, H, W, G)``.

        Returns:
            Tensor: ``(B, T, H, W, C)``.
        """
        b, t, h, w, c = x.shape
        window, shift = self._window(h, w)
        y = self.norm1(x).reshape(b * t, h, w, c)
        g = guidance
        if shift:
            y = torch.roll(y, (-shift, -shift), dims=(1, 2))
            g = torch.roll(g, (-shift, -shift), dims=(1, 2))
        y = window_partition(y, window)  # (nW, B*T, L, C)
        g = window_partition(g, window)  # (nW, B, L, G)
        nw, _, length, _ = y.shape
        y5 = y.reshape(nw, b, t, length, c)
        g5 = g.unsqueeze(2)
        q = guided_linear(y5, g5, self.q).reshape(nw, b * t, length, c)
        k = guided_linear(y5, g5, self.k).reshape(nw, b * t, length, c)
        v = self.v(y)
        mask = None
        if shift:
            mask = shifted_window_mask(h, w, window, shift, q.device, q.dtype)
        out = F.scaled_dot_product_attention(
            self._heads(q), self._heads(k), self._heads(v), attn_mask=mask)
        out = out.reshape(nw, b * t, self.num_heads, length, -1)
        out = self.proj(out.transpose(2, 3).reshape(nw, b * t, length, c))
        out = window_reverse(out, window, h, w)
        if shift:
            out = torch.roll(out, (shift, shift), dims=(1, 2))
        x = x + out.reshape(b, t, h, w, c)
        return x + self.mlp(self.norm2(x))
