# Copyright (c) mmclipself contributors. All rights reserved.
"""Decoder guidance from intermediate CLIP blocks (Cat-Seg CVPR'24)."""
from typing import List, Sequence

import torch.nn as nn
from mmengine.model import BaseModule
from torch import Tensor

from mmclipself.registry import MODELS
from mmclipself.utils.typing_utils import OptMultiConfig


@MODELS.register_module()
class CLIPTapGuidance(BaseModule):
    """Transposed convolutions that upsample CLIP block taps for a decoder.

    Follows Cat-Seg CVPR'24 (segmentation facts §2.1, "CVPR guidance
    taps"): the raw outputs of two CLIP blocks (class token dropped, no
    final norm), each ``(B, width, h, w)``, go through
    ``ConvTranspose2d(width, c_i, kernel_size=s_i, stride=s_i)``: the
    release uses ``(256, 128)`` channels at scales ``(2, 4)``, giving the
    guidance of the two decoder stages at ``2h`` and ``4h``. They train at
    the base learning rate.

    Args:
        in_channels: Width of the CLIP tower (768 for ViT-B/16, 1024 for
            ViT-L/14).
        out_channels: Channels of each guidance map. Defaults to
            ``(256, 128)``.
        scales: Upsampling factor (kernel size = stride) of each tap.
            Defaults to ``(2, 4)``.
        init_cfg: MMEngine initialisation config (default: PyTorch's).
    """

    def __init__(self,
                 in_channels: int,
                 out_channels: Sequence[int] = (256, 128),
                 scales: Sequence[int] = (2, 4),
                 init_cfg: OptMultiConfig = None) -> None:
        super().__init__(init_cfg=init_cfg)
        if len(out_channels) != len(scales):
            raise ValueError(f'one scale per output: out_channels='
                             f'{tuple(out_channels)}, scales={tuple(scales)}')
        self.in_channels = in_channels
        self.out_channels = tuple(out_channels)
        self.scales = tuple(scales)
        self.upsamples = nn.ModuleList(
            nn.ConvTranspose2d(in_channels, c, kernel_size=s, stride=s)
            for c, s in zip(self.out_channels, self.scales))

    def forward(self, taps: Sequence[Tensor]) -> List[Tensor]:
        """Upsample each tap with its transposed convolution.

        Args:
            taps: One ``(B, in_channels, h, w)`` map per output, in order.

        Returns:
            ``[(B, out_channels[i], scales[i] * h, scales[i] * w)]``.
        """
        if len(taps) != len(self.upsamples):
            raise ValueError(f'{type(self).__name__} expects '
                             f'{len(self.upsamples)} taps, got {len(taps)} '
                             '(set the CLIP tower\'s out_indices to one '
                             'block per guidance map)')
        for i, t in enumerate(taps):
            if t.dim() != 4 or t.shape[1] != self.in_channels:
                raise ValueError(f'tap {i} must be (B, {self.in_channels}, '
                                 f'h, w), got {tuple(t.shape)}')
        return [up(t) for up, t in zip(self.upsamples, taps)]
