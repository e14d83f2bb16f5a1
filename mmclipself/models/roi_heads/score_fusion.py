# Copyright (c) mmclipself contributors. All rights reserved.
from torch import Tensor


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
