# Copyright (c) mmclipself contributors. All rights reserved.
from typing import Sequence, Tuple

import torch
import torch.nn as nn
import torch.nn.functional as F
from mmcv.cnn import build_norm_layer
from mmengine.model import BaseModule
from torch import Tensor

from mmclipself.registry import MODELS
from mmclipself.utils.typing_utils import ConfigType, OptMultiConfig
from ..utils.frozen import FrozenPartsMixin, set_store_weights, stores_weights

PYRAMIDS = ('convt', 'interpolate')


@MODELS.register_module()
class CLIPViTPyramid(FrozenPartsMixin, BaseModule):
    """A frozen CLIP ViT as a 4-level detection backbone (F-ViT, paper A.3).

    The tower (any :class:`BaseCLIPViT` config) is frozen and run without
    gradients; four of its blocks are tapped (paper A.3: ``[3, 5, 7, 11]``
    for B/16, ``[6, 10, 14, 23]`` for L/14) and turned into strides
    p/4, p/2, p, 2p (4/8/16/32 for patch 16):

    - ``'convt'`` (release): ConvT 2x2 -> norm -> GELU -> ConvT 2x2,
      ConvT 2x2, identity, max-pool 2x2 (the only trainable parameters);
    - ``'interpolate'`` (paper A.3): bilinear resizing by 4, 2, 1 and 1/2.

    The tower is a frozen part (:mod:`mmclipself.models.utils.frozen`):
    checkpoints hold, unless ``save_clip_weights``, only a record of its
    weights (source and fingerprint). Loading such a checkpoint takes the
    tower's current weights, read from ``pretrained`` by ``init_weights`` or,
    in test/val runs, by the ``InitFrozenPartsHook`` of the default runtime
    (so MMDetection's own test script restores the full model from a small
    checkpoint), and fails with a clear error if their fingerprint is not
    the recorded one.

    Args:
        clip: Config of the CLIP tower (``EVA02CLIPViT``/``OpenAICLIPViT``);
            ``train_blocks`` is forced to ``[]`` and ``out_indices`` set.
        out_indices: The four tapped blocks.
        pyramid: ``'convt'`` or ``'interpolate'``.
        norm_cfg: Norm of the stride-4 branch (release: SyncBN).
        save_clip_weights: Also store the frozen tower in checkpoints.
        init_cfg: MMEngine initialisation config of the pyramid layers.
    """

    def __init__(self,
                 clip: ConfigType,
                 out_indices: Sequence[int] = (3, 5, 7, 11),
                 pyramid: str = 'convt',
                 norm_cfg: ConfigType = dict(
                     type='SyncBN', requires_grad=True),
                 save_clip_weights: bool = False,
                 init_cfg: OptMultiConfig = None) -> None:
        super().__init__(init_cfg=init_cfg)
        if pyramid not in PYRAMIDS:
            raise ValueError(f'pyramid must be one of {PYRAMIDS}, got '
                             f'{pyramid!r}')
        if len(out_indices) != 4:
            raise ValueError('CLIPViTPyramid taps 4 blocks, got out_indices='
                             f'{tuple(out_indices)}')
        self.clip = MODELS.build(
            dict(
                clip,
                train_blocks=[],
                out_type='featmaps',
                out_indices=tuple(out_indices)))
        self.register_frozen_part('clip', store_weights=save_clip_weights)
        self.pyramid = pyramid
        dim = self.clip.embed_dim
        if pyramid == 'convt':
            self.up4 = nn.Sequential(
                nn.ConvTranspose2d(dim, dim, 2, stride=2),
                build_norm_layer(norm_cfg, dim)[1], nn.GELU(),
                nn.ConvTranspose2d(dim, dim, 2, stride=2))
            self.up2 = nn.ConvTranspose2d(dim, dim, 2, stride=2)
            self.down2 = nn.MaxPool2d(2)

    @property
    def out_channels(self) -> Tuple[int, ...]:
        """Channels of the four levels (the tower width)."""
        return (self.clip.embed_dim, ) * 4

    @property
    def save_clip_weights(self) -> bool:
        """Whether checkpoints store the frozen tower's tensors."""
        return stores_weights(self, 'clip')

    @save_clip_weights.setter
    def save_clip_weights(self, value: bool) -> None:
        set_store_weights(self, 'clip', value)

    def _levels(self, maps: Sequence[Tensor]) -> Tuple[Tensor, ...]:
        if self.pyramid == 'convt':
            return (self.up4(maps[0]), self.up2(maps[1]), maps[2],
                    self.down2(maps[3]))
        return tuple(
            F.interpolate(
                m, scale_factor=s, mode='bilinear', align_corners=False
            ) if s != 1 else m for m, s in zip(maps, (4., 2., 1., 0.5)))

    def forward_with_dense(self,
                           x: Tensor) -> Tuple[Tuple[Tensor, ...], Tensor]:
        """The four levels and the dense CLIP map from one tower pass."""
        with torch.no_grad():
            maps, dense = self.clip.forward_featmaps(x, with_dense=True)
        return self._levels(maps), dense

    def forward(self, x: Tensor) -> Tuple[Tensor, ...]:
        """Four feature maps of strides p/4, p/2, p and 2p."""
        with torch.no_grad():
            maps = self.clip.forward_featmaps(x)
        return self._levels(maps)
