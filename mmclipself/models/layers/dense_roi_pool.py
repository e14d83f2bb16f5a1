# Copyright (c) mmclipself contributors. All rights reserved.
from typing import Optional, Sequence

import torch
import torch.nn as nn
import torch.nn.functional as F
from torch import Tensor
from torchvision.ops import roi_align

from mmclipself.registry import MODELS


@MODELS.register_module()
class DenseRoIPool(nn.Module):
    """One embedding per box from a dense CLIP map (RoIAlign 1x1).

    The single RoI convention of the package, used by the CLIPSelf
    distiller (student region features), F-ViT's CLIP score fusion and the
    region-recognition evaluation. It follows the CLIPSelf release, whose
    two pipelines agree: torchvision ``roi_align(output (1, 1),
    spatial_scale=1/patch, sampling_ratio=0 (adaptive), aligned=True)``
    (the distiller calls it directly; the F-ViT detector goes through mmcv's
    ``RoIAlign(output_size=1, sampling_ratio=0, use_torchvision=True)``,
    whose ``aligned`` defaults to ``True``, at ``featmap_strides=[patch]``).

    With ``aligned=True`` a box ``[x1, x2)`` in input pixels spans the map
    from ``x1/p - 0.5`` to ``x2/p - 0.5`` in cell coordinates (cell ``j``'s
    centre is at ``j``, i.e. at pixel ``(j + 0.5) p``) and is bilinearly
    sampled at ``ceil((x2 - x1)/p)`` evenly spaced points per axis, which
    are averaged: a box whose edges lie on the patch grid samples exactly
    the centres of the cells it covers and returns their mean.

    The scale is ``1 / stride`` with ``stride`` the patch size of the tower
    that made the map. It is the constructor's ``patch_size``; without one
    it is derived from the padded input shape given to :meth:`forward` as
    ``input / map`` (exact, since the CLIP towers only accept inputs that
    are multiples of their patch size). With both, they must agree.

    Pooling runs in float32 whatever the map's dtype; the output is
    float32.

    Args:
        patch_size: Stride of the dense map in input pixels (the tower's
            patch size, e.g. 16 for B/16, 14 for L/14), or ``None`` to
            derive it from ``input_shape`` in :meth:`forward`.
        normalize: L2-normalise each pooled embedding (F-ViT does; the
            distillation loss is a cosine and does not need it).
    """

    def __init__(self,
                 patch_size: Optional[int] = None,
                 normalize: bool = False) -> None:
        super().__init__()
        if patch_size is not None and (int(patch_size) != patch_size
                                       or patch_size < 1):
            raise ValueError('DenseRoIPool patch_size must be a positive '
                             f'integer, got {patch_size!r}')
        self.patch_size = None if patch_size is None else int(patch_size)
        self.normalize = normalize

    def stride(self,
               map_shape: Sequence[int],
               input_shape: Optional[Sequence[int]] = None) -> int:
        """Input pixels per map cell, checked against ``input_shape``.

        Args:
            map_shape: ``(h, w)`` of the dense map.
            input_shape: ``(H, W)`` of the (padded) input the map was
                computed from, if known.

        Raises:
            ValueError: Neither a patch size nor an input shape is known,
                the input is not a whole number of cells, or it disagrees
                with ``patch_size``.
        """
        h, w = (int(s) for s in map_shape)
        if input_shape is None:
            if self.patch_size is None:
                raise ValueError(
                    'DenseRoIPool has no patch_size: pass the padded input '
                    'shape (H, W) to derive the stride from')
            return self.patch_size
        H, W = (int(s) for s in input_shape)
        if H % h or W % w or H // h != W // w:
            raise ValueError(
                f'input shape {(H, W)} is not a whole number of cells of '
                f'the dense map {(h, w)}: the input must be padded to a '
                'multiple of the patch size')
        stride = H // h
        if self.patch_size is not None and stride != self.patch_size:
            raise ValueError(
                f'dense map {(h, w)} of input {(H, W)} has stride {stride}, '
                f'but DenseRoIPool expects patch_size {self.patch_size}: '
                'is it the map of another tower?')
        return stride

    def forward(self,
                dense: Tensor,
                rois: Tensor,
                input_shape: Optional[Sequence[int]] = None) -> Tensor:
        """Pool one embedding per box.

        Args:
            dense: ``(B, D, h, w)`` dense CLIP map.
            rois: ``(N, 5)`` boxes ``[batch index, x1, y1, x2, y2]`` in
                (padded) input pixels.
            input_shape: ``(H, W)`` of the padded input; needed when the
                layer has no ``patch_size``, checked otherwise.

        Returns:
            ``(N, D)`` float32 embeddings (L2-normalised if ``normalize``).
        """
        if dense.dim() != 4:
            raise ValueError('DenseRoIPool takes a (B, D, h, w) dense map, '
                             f'got shape {tuple(dense.shape)}')
        if rois.dim() != 2 or rois.size(1) != 5:
            raise ValueError('DenseRoIPool takes (N, 5) rois [batch index, '
                             f'x1, y1, x2, y2], got shape {tuple(rois.shape)}')
        stride = self.stride(dense.shape[-2:], input_shape)
        # checked where it costs no device sync (host tensors); on a GPU
        # this would stall every training step
        if rois.numel() and rois.device.type == 'cpu' and not 0 <= int(
                rois[:, 0].min()) <= int(rois[:, 0].max()) < dense.size(0):
            raise ValueError(
                f'roi batch indices must lie in [0, {dense.size(0)}), got '
                f'{int(rois[:, 0].min())}..{int(rois[:, 0].max())}')
        feats = roi_align(
            dense.float(),
            rois.to(dense.device, torch.float32),
            output_size=(1, 1),
            spatial_scale=1. / stride,
            sampling_ratio=0,
            aligned=True).flatten(1)
        return F.normalize(feats, dim=-1) if self.normalize else feats
