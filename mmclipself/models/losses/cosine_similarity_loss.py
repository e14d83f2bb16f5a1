# Copyright (c) mmclipself contributors. All rights reserved.
from typing import Optional

import torch.nn as nn
import torch.nn.functional as F
from torch import Tensor

from mmclipself.registry import MODELS


@MODELS.register_module()
class CosineSimilarityLoss(nn.Module):
    """``1 - cos(pred, target)``, the CLIPSelf distillation loss.

    Follows CLIPSelf (Wu et al., ICLR 2024) §3.2: the student's region
    embedding is pulled towards the teacher's embedding of the same region
    cropped from the image, ``L = 1 - cos(f_student, f_teacher)``, averaged
    over all regions.

    Args:
        loss_weight: Weight of the loss. Defaults to 1.0 (release's
            ``cosine_weight``).
        eps: Small value avoiding division by zero in the normalisation.
            Defaults to 1e-6.
    """

    def __init__(self, loss_weight: float = 1.0, eps: float = 1e-6) -> None:
        super().__init__()
        self.loss_weight = loss_weight
        self.eps = eps

    def forward(self,
                pred: Tensor,
                target: Tensor,
                weight: Optional[Tensor] = None,
                avg_factor: Optional[float] = None) -> Tensor:
        """Compute the loss.

        Args:
            pred: Predicted embeddings of shape (N, C).
            target: Target embeddings of shape (N, C); no gradient flows
                into them.
            weight: Optional per-row weights of shape (N,).
            avg_factor: Normaliser of the summed loss. Defaults to the number
                of rows (or the sum of ``weight``).

        Returns:
            The scalar loss. With no rows it is a zero that still depends on
            ``pred`` so every parameter receives a (zero) gradient.
        """
        if pred.shape != target.shape or pred.dim() != 2:
            raise ValueError('CosineSimilarityLoss expects two (N, C) tensors '
                             f'of the same shape, got {tuple(pred.shape)} and '
                             f'{tuple(target.shape)}')
        if pred.shape[0] == 0:
            return pred.sum() * 0.
        cos = F.cosine_similarity(
            pred.float(), target.detach().float(), dim=-1, eps=self.eps)
        loss = 1. - cos
        if weight is not None:
            loss = loss * weight
            denom = weight.sum() if avg_factor is None else avg_factor
        else:
            denom = loss.numel() if avg_factor is None else avg_factor
        return self.loss_weight * loss.sum() / max(float(denom), self.eps)
