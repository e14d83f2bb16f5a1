# Copyright (c) mmclipself contributors. All rights reserved.
import torch.nn as nn
from torch import Tensor

from .guided_swin_block import GuidedSwinBlock


class SpatialAggregation(nn.Module):
    """Cat-Seg's spatial aggregation: two guided Swin blocks per class.

    Follows segmentation_facts.md §2.2 ("Spatial"): a W-MSA block (shift 0)
    then an SW-MSA block (shift ``window_size // 2``), each class slice
    attended on its own; the projected appearance guidance of each image is
    shared by its classes and goes through one LayerNorm shared by both
    blocks. No class padding here (the release pads only the class
    aggregation).

    Args:
        channels: Token channels (``hidden``, 128).
        guidance_channels: Projected appearance guidance channels (128).
        num_heads: Attention heads (4).
        window_size: Window side (12).
    """

    def __init__(self, channels: int, guidance_channels: int, num_heads: int,
                 window_size: int) -> None:
        super().__init__()
        self.guidance_norm = nn.LayerNorm(guidance_channels)
        self.block1 = GuidedSwinBlock(channels, guidance_channels, num_heads,
                                      window_size, 0)
        self.block2 = GuidedSwinBlock(channels, guidance_channels, num_heads,
                                      window_size, window_size // 2)

    def forward(self, x: Tensor, guidance: Tensor) -> Tensor:
        """Aggregate over space.

        Args:
            x: Tokens ``(B, T, H, W, C)``.
            guidance: Projected appearance guidance ``(B, G, H, W)``.

        Returns:
            Tensor: ``(B, T, H, W, C)``.
        """
        g = self.guidance_norm(guidance.permute(0, 2, 3, 1))
        return self.block2(self.block1(x, g), g)
