# Copyright (c) mmclipself contributors. All rights reserved.
"""Window helpers of Cat-Seg's spatial (Swin) aggregation.

Windows are laid out window-major: ``(num_windows, N, window**2, C)`` for
``N`` maps, so a mask of shape ``(num_windows, 1, L, L)`` broadcasts over
every map and head in one ``scaled_dot_product_attention`` call.
"""
from typing import Optional

import torch
from torch import Tensor

# Follows segmentation_facts.md §2.2 (the release's shifted-window mask).
SHIFTED_WINDOW_MASK_VALUE = -100.0


def window_partition(x: Tensor, window: int) -> Tensor:
    """Split maps into non-overlapping square windows.

    Args:
        x: Maps ``(N, H, W, C)``; ``H`` and ``W`` divisible by ``window``.
        window: Window side.

    Returns:
        Tensor: ``(num_windows, N, window * window, C)``, windows in
        row-major order of the window grid, tokens row-major inside.
    """
    n, h, w, c = x.shape
    x = x.reshape(n, h // window, window, w // window, window, c)
    x = x.permute(1, 3, 0, 2, 4, 5)
    return x.reshape(-1, n, window * window, c)


def window_reverse(windows: Tensor, window: int, height: int,
                   width: int) -> Tensor:
    """Inverse of :func:`window_partition`.

    Args:
        windows: ``(num_windows, N, window * window, C)``.
        window: Window side.
        height: Map height ``H``.
        width: Map width ``W``.

    Returns:
        Tensor: Maps ``(N, H, W, C)``.
    """
    _, n, _, c = windows.shape
    x = windows.reshape(height // window, width // window, n, window, window,
                        c)
    x = x.permute(2, 0, 3, 1, 4, 5)
    return x.reshape(n, height, width, c)


def shifted_window_mask(height: int,
                        width: int,
                        window: int,
                        shift: int,
                        device: Optional[torch.device] = None,
                        dtype: torch.dtype = torch.float32) -> Tensor:
    """Additive attention mask of the shifted windows (SW-MSA).

    After the cyclic shift by ``-shift``, the grid splits into the regions
    ``[0, H - window)``, ``[H - window, H - shift)``, ``[H - shift, H)``
    along each axis (the Swin / Cat-Seg convention); two tokens of a window
    attend to each other only when they lie in the same region, otherwise
    their score gets :data:`SHIFTED_WINDOW_MASK_VALUE` (-100, follows
    segmentation_facts.md §2.2).

    Args:
        height: Map height, divisible by ``window``.
        width: Map width, divisible by ``window``.
        window: Window side.
        shift: Cyclic shift, ``0 < shift < window``.
        device: Device of the mask.
        dtype: Dtype of the mask (the attention's dtype).

    Returns:
        Tensor: ``(num_windows, 1, window**2, window**2)``, windows ordered
        as :func:`window_partition` orders them.
    """
    rows = torch.arange(height, device=device)
    cols = torch.arange(width, device=device)
    row_region = (rows >= height - window).long() + (rows >= height - shift)
    col_region = (cols >= width - window).long() + (cols >= width - shift)
    region = row_region[:, None] * 3 + col_region[None, :]
    region = window_partition(region[None, :, :, None], window)[:, 0, :, 0]
    differs = region[:, :, None] != region[:, None, :]
    mask = torch.zeros(differs.shape, device=device, dtype=dtype)
    mask.masked_fill_(differs, SHIFTED_WINDOW_MASK_VALUE)
    return mask.unsqueeze(1)
