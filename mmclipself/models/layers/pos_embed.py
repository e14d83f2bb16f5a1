# Copyright (c) mmclipself contributors. All rights reserved.
"""Absolute position embedding resizing for CLIP ViTs at any input size."""
from typing import Sequence

import torch
import torch.nn.functional as F
from torch import Tensor


def resize_pos_embed(pos_embed: Tensor,
                     src_shape: Sequence[int],
                     dst_shape: Sequence[int],
                     num_prefix_tokens: int = 1,
                     mode: str = 'bicubic') -> Tensor:
    """Resize a (1 + h*w, C) or (1, 1 + h*w, C) position embedding to a grid.

    Follows the CLIPSelf release (reference facts §1): the patch part is
    interpolated bicubically with ``align_corners=False`` and no antialiasing
    (timm's resampler antialiases, which differs numerically), the class
    token embedding is kept as is.

    Args:
        pos_embed: The embedding, with the prefix (class) tokens first.
        src_shape: (h, w) grid the embedding was trained for.
        dst_shape: (h, w) grid of the current input.
        num_prefix_tokens: Number of leading tokens not interpolated.
        mode: Interpolation mode. Defaults to ``'bicubic'``.

    Returns:
        The resized embedding with the same number of dimensions as the input.
    """
    squeeze = pos_embed.dim() == 2
    if squeeze:
        pos_embed = pos_embed.unsqueeze(0)
    src_h, src_w = src_shape
    dst_h, dst_w = dst_shape
    if pos_embed.shape[1] != num_prefix_tokens + src_h * src_w:
        raise ValueError(
            f'position embedding has {pos_embed.shape[1]} tokens, expected '
            f'{num_prefix_tokens} + {src_h}x{src_w}')
    if (src_h, src_w) != (dst_h, dst_w):
        prefix = pos_embed[:, :num_prefix_tokens]
        grid = pos_embed[:, num_prefix_tokens:]
        dim = grid.shape[-1]
        grid = grid.reshape(1, src_h, src_w, dim).permute(0, 3, 1, 2)
        grid = F.interpolate(
            grid.float(), size=(dst_h, dst_w), mode=mode,
            align_corners=False).to(pos_embed.dtype)
        grid = grid.permute(0, 2, 3, 1).reshape(1, dst_h * dst_w, dim)
        pos_embed = torch.cat([prefix, grid], dim=1)
    return pos_embed[0] if squeeze else pos_embed
