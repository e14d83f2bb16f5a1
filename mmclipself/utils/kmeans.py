# Copyright (c) mmclipself contributors. All rights reserved.
"""Spherical k-means for visualising dense CLIP features (paper Fig. 4)."""
from typing import Tuple

import torch
import torch.nn.functional as F
from torch import Tensor


def spherical_kmeans(feats: Tensor,
                     k: int,
                     iters: int = 30,
                     seed: int = 0) -> Tuple[Tensor, Tensor]:
    """Cluster rows of ``feats`` by cosine similarity.

    Initialisation is k-means++ on cosine distance with a fixed seed, so the
    result is deterministic.

    Args:
        feats: (N, D) features (normalised inside).
        k: Number of clusters (at most N).
        iters: Lloyd iterations.
        seed: Seed of the initialisation.

    Returns:
        Labels (N,) and unit-norm centres (k, D).
    """
    n = feats.shape[0]
    if not 1 <= k <= n:
        raise ValueError(f'k must be in [1, {n}], got {k}')
    x = F.normalize(feats.float(), dim=1)
    gen = torch.Generator(device='cpu').manual_seed(seed)
    centres = [x[torch.randint(n, (1, ), generator=gen).item()]]
    for _ in range(1, k):
        sim = torch.stack(centres) @ x.T
        dist = (1 - sim.max(dim=0).values).clamp(min=0)
        if dist.sum() <= 0:
            idx = torch.randint(n, (1, ), generator=gen).item()
        else:
            idx = torch.multinomial(dist.cpu(), 1, generator=gen).item()
        centres.append(x[idx])
    centres = torch.stack(centres)
    labels = torch.zeros(n, dtype=torch.long, device=x.device)
    for _ in range(iters):
        labels = (x @ centres.T).argmax(dim=1)
        new = torch.zeros_like(centres).index_add_(0, labels, x)
        empty = new.norm(dim=1) == 0
        new[empty] = centres[empty]
        new = F.normalize(new, dim=1)
        if torch.allclose(new, centres):
            break
        centres = new
    return labels, centres
