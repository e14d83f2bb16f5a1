# Copyright (c) mmclipself contributors. All rights reserved.
"""Cat-Seg's cost volume and its per-class embedding.

Follows segmentation_facts.md §2.2 ("Cost volume").
"""
import torch
import torch.nn as nn
import torch.nn.functional as F
from torch import Tensor


def cost_volume(dense: Tensor, text: Tensor) -> Tensor:
    """Cosine similarity of every location with every class and template.

    Both inputs are L2-normalised here (a no-op for the package's towers,
    whose outputs already are), as in the release.

    Args:
        dense: Dense CLIP map ``(B, C, h, w)``.
        text: Per-template class embeddings ``(B, T, P, C)`` or
            ``(1, T, P, C)`` (shared by the batch).

    Returns:
        Tensor: The cost volume ``(B, P, T, h, w)``.
    """
    dense = F.normalize(dense, dim=1)
    text = F.normalize(text, dim=-1)
    if text.size(0) == 1:
        return torch.einsum('bchw,tpc->bpthw', dense, text[0])
    return torch.einsum('bchw,btpc->bpthw', dense, text)


class CostEmbedding(nn.Module):
    """Per-class embedding of the cost volume.

    One ``Conv2d(P, hidden, 7, padding=3)`` applied to each class slice
    (follows segmentation_facts.md §2.2, the release's ``conv1``).

    Args:
        num_templates: Number of prompt templates ``P``.
        hidden_channels: Output channels.
    """

    def __init__(self, num_templates: int, hidden_channels: int) -> None:
        super().__init__()
        self.conv = nn.Conv2d(
            num_templates, hidden_channels, kernel_size=7, padding=3)

    def forward(self, cost: Tensor) -> Tensor:
        """Embed a cost volume.

        Args:
            cost: ``(B, P, T, h, w)``.

        Returns:
            Tensor: ``(B, T, h, w, hidden)``, channels last (the layout of
            the aggregator; the release's ``(B, hidden, T, h, w)``
            permuted).
        """
        b, p, t, h, w = cost.shape
        x = self.conv(cost.transpose(1, 2).reshape(b * t, p, h, w))
        x = x.view(b, t, -1, h, w).permute(0, 1, 3, 4, 2)
        return x.contiguous()
