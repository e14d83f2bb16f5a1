# Copyright (c) mmclipself contributors. All rights reserved.
from typing import Optional, Sequence

import torch.nn as nn
import torch.nn.functional as F
from torch import Tensor
from torch.utils.checkpoint import checkpoint

from .class_aggregation import ClassAggregation
from .spatial_aggregation import SpatialAggregation


class CostAggregator(nn.Module):
    """Cat-Seg's cost aggregation: layers of spatial then class aggregation.

    Follows segmentation_facts.md §2.2 ("Guidance projections", "Layer"):
    the appearance guidance is projected once by ``Conv3x3 + ReLU``, the
    text guidance by mean over templates -> L2 -> ``Linear + ReLU``; then
    ``num_layers`` x (:class:`SpatialAggregation`,
    :class:`ClassAggregation`). The decoder guidance projections live in
    :class:`UpsampleDecoder`.

    Args:
        channels: Embedded cost channels (``hidden``, 128).
        appearance_channels: Channels of the appearance guidance input.
        text_channels: Channels of the text embeddings.
        appearance_proj: Projected appearance guidance channels (128).
        text_proj: Projected text guidance channels (128).
        num_layers: Aggregation layers (2).
        num_heads: Heads of both attentions (4).
        window_size: Swin window side (12).
        pooling_size: Class-aggregation pooling in training ((2, 2)).
        test_pooling_size: Class-aggregation pooling at eval ((1, 1)).
        pad_len: Class padding length of CVPR'24 (256), or ``None``.
        with_cp: Checkpoint every spatial and class aggregation in
            training (activation memory for compute).
    """

    def __init__(self,
                 channels: int,
                 appearance_channels: int,
                 text_channels: int,
                 appearance_proj: int = 128,
                 text_proj: int = 128,
                 num_layers: int = 2,
                 num_heads: int = 4,
                 window_size: int = 12,
                 pooling_size: Sequence[int] = (2, 2),
                 test_pooling_size: Sequence[int] = (1, 1),
                 pad_len: Optional[int] = None,
                 with_cp: bool = False) -> None:
        super().__init__()
        self.with_cp = with_cp
        self.appearance_proj = nn.Sequential(
            nn.Conv2d(appearance_channels, appearance_proj, 3, padding=1),
            nn.ReLU())
        self.text_proj = nn.Sequential(
            nn.Linear(text_channels, text_proj), nn.ReLU())
        self.spatial_layers = nn.ModuleList([
            SpatialAggregation(channels, appearance_proj, num_heads,
                               window_size) for _ in range(num_layers)
        ])
        self.class_layers = nn.ModuleList([
            ClassAggregation(channels, text_proj, num_heads, pooling_size,
                             test_pooling_size, pad_len)
            for _ in range(num_layers)
        ])

    def _run(self, layer: nn.Module, x: Tensor, guidance: Tensor) -> Tensor:
        if self.with_cp and self.training:
            return checkpoint(layer, x, guidance, use_reentrant=False)
        return layer(x, guidance)

    def forward(self, x: Tensor, appearance: Tensor, text: Tensor) -> Tensor:
        """Aggregate the embedded cost volume.

        Args:
            x: Embedded cost ``(B, T, h, w, C)``.
            appearance: Appearance guidance ``(B, C_app, h, w)``.
            text: Per-template text embeddings ``(B or 1, T, P, C_txt)``
                of the ``T`` classes in ``x``.

        Returns:
            Tensor: ``(B, T, h, w, C)``.
        """
        appearance = self.appearance_proj(appearance)
        text = self.text_proj(F.normalize(text.mean(dim=2), dim=-1))
        for spatial, classes in zip(self.spatial_layers, self.class_layers):
            x = self._run(spatial, x, appearance)
            x = self._run(classes, x, text)
        return x
