# Copyright (c) mmclipself contributors. All rights reserved.
from typing import Union

import torch
import torch.nn as nn
from torch import Tensor

from mmclipself.registry import MODELS


def fuse_clip_scores(det_probs: Tensor, clip_probs: Tensor, base_mask: Tensor,
                     alpha: float, beta: float) -> Tensor:
    """Geometric ensemble of detector and CLIP probabilities (F-ViT).

    Follows F-VLM / the CLIPSelf release: ``p_det^(1-alpha) * p_clip^alpha``
    for base classes and ``p_det^(1-beta) * p_clip^beta`` for novel ones;
    the background column (last) counts as base. Not renormalised.

    Args:
        det_probs: ``(N, C + 1)`` softmax scores of the detector.
        clip_probs: ``(N, C + 1)`` softmax scores of the dense CLIP map.
        base_mask: ``(C + 1,)`` bool, ``True`` for base classes and the
            background.
        alpha: CLIP weight for base classes.
        beta: CLIP weight for novel classes.

    Returns:
        ``(N, C + 1)`` fused scores.
    """
    if det_probs.shape != clip_probs.shape:
        raise ValueError(f'detector scores {tuple(det_probs.shape)} and CLIP '
                         f'scores {tuple(clip_probs.shape)} differ in shape')
    weight = base_mask.to(det_probs.dtype) * alpha + (~base_mask).to(
        det_probs.dtype) * beta
    return det_probs.pow(1 - weight) * clip_probs.pow(weight)


def fuse_void_clip_logits(in_logits: Tensor,
                          clip_logits: Tensor,
                          seen_mask: Tensor,
                          alpha: float = 0.35,
                          beta: float = 0.65,
                          log: bool = False) -> Tensor:
    """Geometric ensemble with a void class (ODISE / FC-CLIP).

    Follows ODISE (``PoolingCLIPHead``, normalised logits) and FC-CLIP:

    1. ``p_in = softmax_K(in_logits[..., :K])`` (void removed) and
       ``p_out = softmax_K(clip_logits[..., :K])``;
    2. seen classes ``p_in^(1-alpha) p_out^alpha``, unseen classes
       ``p_in^(1-beta) p_out^beta`` (in log space);
    3. renormalised over the ``K`` classes, times ``1 - p_void`` with
       ``p_void = softmax(in_logits)[..., K]`` (void included).

    The result is ``K + 1`` probabilities ``[p (1 - p_void), p_void]`` that
    sum to 1. With ``log=True`` their exact logarithms are returned
    instead: MMDetection's ``MaskFormerFusionHead`` applies a softmax to the
    class scores it is given, which turns these back into the same
    probabilities (ODISE feeds ``log(p + 1e-8)`` to Mask2Former's inference
    for the same reason).

    Exponents from the sources: ODISE label ``0.3 / 0.7``
    (``odise_with_label.py``), ODISE caption and its class default
    ``0.35 / 0.65`` (the defaults here), FC-CLIP ``0.4 / 0.8``.

    Args:
        in_logits: ``(..., K + 1)`` in-vocabulary logits, void last.
        clip_logits: ``(..., K)`` CLIP logits, or ``(..., K + 1)`` whose
            last (void/background) column is dropped.
        seen_mask: ``(K,)`` bool, ``True`` for classes seen in training.
        alpha: CLIP weight of seen classes.
        beta: CLIP weight of unseen classes.
        log: Return log-probabilities.

    Returns:
        ``(..., K + 1)`` probabilities (or their logarithms).
    """
    k = in_logits.size(-1) - 1
    if clip_logits.size(-1) not in (k, k + 1) or (clip_logits.shape[:-1]
                                                  != in_logits.shape[:-1]):
        raise ValueError(
            f'CLIP logits {tuple(clip_logits.shape)} do not match in-vocab '
            f'logits {tuple(in_logits.shape)} (K + 1 with void): expected '
            f'K = {k} or K + 1 columns')
    if seen_mask.shape != (k, ):
        raise ValueError(f'seen_mask must be ({k},) for {k} classes, got '
                         f'{tuple(seen_mask.shape)}')
    in_logits = in_logits.float()
    log_in = in_logits[..., :k].log_softmax(-1)
    log_out = clip_logits[..., :k].float().log_softmax(-1)
    seen = seen_mask.to(in_logits.device, torch.bool)
    w = torch.where(seen, in_logits.new_tensor(alpha),
                    in_logits.new_tensor(beta))
    fused = ((1 - w) * log_in + w * log_out).log_softmax(-1)
    # log(1 - p_void) and log p_void from the logits, without rounding
    log_all = in_logits.logsumexp(-1, keepdim=True)
    log_not_void = in_logits[..., :k].logsumexp(-1, keepdim=True) - log_all
    log_void = in_logits[..., k:] - log_all
    out = torch.cat([fused + log_not_void, log_void], dim=-1)
    return out if log else out.exp()


@MODELS.register_module()
class VoidScoreFusion(nn.Module):
    """Configurable :func:`fuse_void_clip_logits` (ODISE / FC-CLIP rule).

    For mask classifiers that score ``K`` classes plus void with an
    in-vocabulary head and with CLIP. Defaults are ODISE's class defaults
    (``0.35 / 0.65``); ODISE's label model uses ``0.3 / 0.7`` and FC-CLIP
    ``0.4 / 0.8``.

    Args:
        alpha: CLIP weight of seen classes.
        beta: CLIP weight of unseen classes.
        log: Output log-probabilities (for MMDetection's
            ``MaskFormerFusionHead``, which re-applies a softmax).
    """

    def __init__(self,
                 alpha: float = 0.35,
                 beta: float = 0.65,
                 log: bool = False) -> None:
        super().__init__()
        for name, value in (('alpha', alpha), ('beta', beta)):
            if not 0. <= value <= 1.:
                raise ValueError(f'VoidScoreFusion {name} must lie in [0, 1]'
                                 f', got {value}')
        self.alpha = alpha
        self.beta = beta
        self.log = log

    def forward(self, in_logits: Tensor, clip_logits: Tensor,
                seen_mask: Union[Tensor, list]) -> Tensor:
        """See :func:`fuse_void_clip_logits`."""
        seen_mask = torch.as_tensor(
            seen_mask, dtype=torch.bool, device=in_logits.device)
        return fuse_void_clip_logits(in_logits, clip_logits, seen_mask,
                                     self.alpha, self.beta, self.log)

    def extra_repr(self) -> str:
        return f'alpha={self.alpha}, beta={self.beta}, log={self.log}'
