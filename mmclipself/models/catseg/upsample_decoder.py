# Copyright (c) mmclipself contributors. All rights reserved.
from typing import List, Sequence

import torch.nn as nn
from torch import Tensor
from torch.utils.checkpoint import checkpoint

from .guided_upsample import GuidedUpsample


class UpsampleDecoder(nn.Module):
    """Cat-Seg's upsampling decoder and per-class head.

    Follows segmentation_facts.md §2.2 ("Guidance projections",
    "Decoder"): each decoder guidance is projected by ``Conv3x3 + ReLU``
    (per image, 256 -> 32 and 128 -> 16 in CVPR'24), two
    :class:`GuidedUpsample` stages (128 -> 64 -> 32 channels, x4 in size),
    and ``Conv3x3(32 -> 1)`` per class. All classes of all images run as
    one batch of ``B * T`` maps.

    Args:
        in_channels: Aggregated cost channels (``hidden``, 128).
        channels: Output channels of the two stages ((64, 32)).
        guidance_channels: Channels of the two decoder guidance inputs.
        guidance_proj: Projected guidance channels ((32, 16)).
        with_cp: Checkpoint each stage in training.
    """

    def __init__(self,
                 in_channels: int,
                 channels: Sequence[int] = (64, 32),
                 guidance_channels: Sequence[int] = (256, 128),
                 guidance_proj: Sequence[int] = (32, 16),
                 with_cp: bool = False) -> None:
        super().__init__()
        if not len(channels) == len(guidance_channels) == len(
                guidance_proj) == 2:
            raise ValueError(
                'UpsampleDecoder: channels, guidance_channels and '
                'guidance_proj need two entries each, got '
                f'{channels}, {guidance_channels}, {guidance_proj}')
        self.with_cp = with_cp
        self.guidance_channels = tuple(guidance_channels)
        self.guidance_proj = nn.ModuleList([
            nn.Sequential(nn.Conv2d(gc, gp, 3, padding=1), nn.ReLU())
            for gc, gp in zip(guidance_channels, guidance_proj)
        ])
        ins = (in_channels, channels[0])
        self.stages = nn.ModuleList([
            GuidedUpsample(i, o, gp)
            for i, o, gp in zip(ins, channels, guidance_proj)
        ])
        self.head = nn.Conv2d(channels[1], 1, 3, padding=1)

    def forward(self, x: Tensor, guidance: List[Tensor]) -> Tensor:
        """Decode class maps to logits at 4x the input size.

        Args:
            x: Aggregated cost ``(B, T, h, w, C)``.
            guidance: ``[(B, g0, 2h, 2w), (B, g1, 4h, 4w)]``.

        Returns:
            Tensor: Logits ``(B, T, 4h, 4w)``.
        """
        b, t, h, w, c = x.shape
        y = x.permute(0, 1, 4, 2, 3).reshape(b * t, c, h, w)
        for i, (proj,
                stage) in enumerate(zip(self.guidance_proj, self.stages)):
            g = proj(guidance[i])
            if self.with_cp and self.training:
                y = checkpoint(stage, y, g, use_reentrant=False)
            else:
                y = stage(y, g)
        y = self.head(y)
        return y.view(b, t, *y.shape[-2:])
