# Copyright (c) mmclipself contributors. All rights reserved.
import math
from typing import Optional

import torch
import torch.nn as nn
import torch.nn.functional as F
from torch import Tensor

from mmclipself.registry import MODELS


@MODELS.register_module()
class OVQueryClassifier(nn.Module):
    """Open-vocabulary classifier of mask queries with a learned void.

    ``logits = s * normalize(W q + b) @ normalize([E; e_void]).T``: each
    query embedding ``q`` is projected to the CLIP embedding width, compared
    by cosine with the ``K`` text embeddings ``E`` of the active vocabulary
    and with a learned void embedding ``e_void`` (column ``K + 1``, last, as
    MMDetection's Mask2Former labels void), and scaled by the learned
    temperature ``s = exp(logit_scale)`` clamped at ``logit_scale_max``.

    Follows FC-CLIP (``fcclip/modeling/transformer_decoder``: learned
    ``void_embedding``, ``logit_scale`` initialised to ``log(1/0.07)`` and
    ``exp`` clamped at 100) and ODISE (same scale init and clamp, facts
    §3.6, §3.7); the projection is a single Linear (FC-CLIP and ODISE use a
    3-layer MLP on top of pooled features, not reproduced here).

    No parameter depends on the vocabulary: the ``(K, D)`` text embeddings
    are passed to :meth:`forward` (or set as the non-persistent buffer
    ``class_embeddings``), so checkpoints load on any vocabulary.

    Args:
        in_features: Width of the query embeddings (Mask2Former: 256).
        embed_dims: CLIP embedding width (512 for B/16, 768 for L/14).
        logit_scale_init: Initial temperature ``exp(logit_scale)``
            (FC-CLIP / ODISE: ``1 / 0.07``).
        logit_scale_max: Clamp of the temperature (FC-CLIP / ODISE: 100).
        learn_logit_scale: Learn the temperature.
    """

    def __init__(self,
                 in_features: int,
                 embed_dims: int,
                 logit_scale_init: float = 1 / 0.07,
                 logit_scale_max: float = 100.,
                 learn_logit_scale: bool = True) -> None:
        super().__init__()
        if not 0 < logit_scale_init <= logit_scale_max:
            raise ValueError('OVQueryClassifier needs 0 < logit_scale_init <= '
                             f'logit_scale_max, got {logit_scale_init} and '
                             f'{logit_scale_max}')
        self.in_features = in_features
        self.embed_dims = embed_dims
        self.logit_scale_max = float(logit_scale_max)
        self.proj = nn.Linear(in_features, embed_dims)
        # FC-CLIP: nn.Embedding(1, D), i.e. N(0, 1); normalised in forward
        self.void_embedding = nn.Parameter(torch.randn(embed_dims))
        self.logit_scale = nn.Parameter(
            torch.tensor(math.log(logit_scale_init)),
            requires_grad=learn_logit_scale)
        self.register_buffer(
            'class_embeddings', torch.zeros(0, embed_dims), persistent=False)

    @property
    def temperature(self) -> Tensor:
        """``exp(logit_scale)`` clamped at ``logit_scale_max``."""
        return self.logit_scale.exp().clamp(max=self.logit_scale_max)

    def embeddings(self, class_embeddings: Optional[Tensor] = None) -> Tensor:
        """``(K + 1, D)`` unit classifier weights, void last."""
        emb = self.class_embeddings if class_embeddings is None \
            else class_embeddings
        if emb.dim() != 2 or emb.size(1) != self.embed_dims or not len(emb):
            raise ValueError(
                f'OVQueryClassifier expects (K, {self.embed_dims}) text '
                f'embeddings with K > 0, got {tuple(emb.shape)}: set the '
                'vocabulary (its CLIP must embed into '
                f'{self.embed_dims}-d)')
        void = self.void_embedding.to(emb.dtype)[None]
        return F.normalize(torch.cat([emb, void]), dim=-1)

    def forward(self,
                x: Tensor,
                class_embeddings: Optional[Tensor] = None) -> Tensor:
        """Logits ``(..., K + 1)`` of queries ``x`` ``(..., in_features)``.

        Args:
            x: Query embeddings.
            class_embeddings: ``(K, D)`` text embeddings; default the
                ``class_embeddings`` buffer.
        """
        weight = self.embeddings(class_embeddings).to(x.dtype)
        q = F.normalize(self.proj(x), dim=-1)
        return self.temperature.to(x.dtype) * q @ weight.t()

    def extra_repr(self) -> str:
        return (f'in_features={self.in_features}, embed_dims='
                f'{self.embed_dims}, classes={len(self.class_embeddings)}'
                '+void')
