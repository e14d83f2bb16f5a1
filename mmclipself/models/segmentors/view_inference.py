# Copyright (c) mmclipself contributors. All rights reserved.
"""Sliding-window views and their fold, batched over images and classes.

The geometry of Cat-Seg's inference (segmentation facts §2.4): windows of
``crop_size`` at ``stride`` over the image (``nn.Unfold`` positions: 2x2
windows of 384 at stride 256 on 640x640), the outputs summed back and
divided by the number of windows covering each pixel.
"""
from typing import List, Sequence, Tuple

import torch
from torch import Tensor


def _positions_1d(size: int, crop: int, stride: int) -> List[int]:
    if crop > size:
        raise ValueError(f'crop size {crop} is larger than the image side '
                         f'{size}')
    if stride < 1:
        raise ValueError(f'stride must be >= 1, got {stride}')
    starts = list(range(0, size - crop + 1, stride))
    if starts[-1] + crop < size:  # cover the end (nn.Unfold would not)
        starts.append(size - crop)
    return starts


def window_positions(size: Sequence[int], crop_size: Sequence[int],
                     stride: Sequence[int]) -> List[Tuple[int, int]]:
    """Top-left corners of the sliding windows, row-major.

    The starts along each side are ``0, stride, 2 * stride, ...`` as long as
    the window fits (``nn.Unfold``'s windows, those of the release); if they
    leave the last pixels uncovered one more window is aligned with the
    end, so every pixel is covered.

    Args:
        size: Image ``(H, W)``.
        crop_size: Window ``(h, w)``.
        stride: ``(sh, sw)``.

    Returns:
        ``[(y, x), ...]``, rows first.

    Raises:
        ValueError: A window is larger than the image, or a stride < 1.
    """
    ys = _positions_1d(size[0], crop_size[0], stride[0])
    xs = _positions_1d(size[1], crop_size[1], stride[1])
    return [(y, x) for y in ys for x in xs]


def crop_views(images: Tensor, positions: Sequence[Tuple[int, int]],
               crop_size: Sequence[int]) -> Tensor:
    """The windows of every image: ``(B, C, H, W) -> (B, N, C, h, w)``."""
    h, w = crop_size
    return torch.stack([images[..., y:y + h, x:x + w] for y, x in positions],
                       dim=1)


def fold_views(views: Tensor, positions: Sequence[Tuple[int, int]],
               size: Sequence[int]) -> Tensor:
    """Sum windows back into images and divide by the overlap count.

    Args:
        views: ``(B, N, T, h, w)`` per-window outputs, in the order of
            ``positions``.
        positions: Top-left corners of the ``N`` windows.
        size: Output ``(H, W)``; every pixel must be covered.

    Returns:
        ``(B, T, H, W)``: at each pixel, the mean over the windows covering
        it.
    """
    b, n, t, h, w = views.shape
    if n != len(positions):
        raise ValueError(f'{n} views but {len(positions)} window positions')
    out = views.new_zeros((b, t, *size))
    count = views.new_zeros((1, 1, *size))
    for i, (y, x) in enumerate(positions):
        out[..., y:y + h, x:x + w] += views[:, i]
        count[..., y:y + h, x:x + w] += 1
    if bool((count == 0).any()):
        raise ValueError(f'the windows {list(positions)} of size {(h, w)} '
                         f'leave pixels of the {tuple(size)} image uncovered')
    return out / count
