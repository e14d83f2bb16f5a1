# Copyright (c) mmclipself contributors. All rights reserved.
from typing import Dict, List, Optional, Sequence, Tuple, Union

import torch
import torch.nn as nn
import torch.nn.functional as F
from torch import Tensor

from mmclipself.registry import MODELS

Masks = Union[Tensor, Sequence[Tensor]]
ScaleFactors = Optional[Sequence[Optional[Sequence[float]]]]


@MODELS.register_module()
class DenseMaskPool(nn.Module):
    """One embedding per mask from a dense CLIP map (masked average).

    Follows CLIPSelf's mask pooling (paper §4.2, the release's
    ``mask_pool``): the mean of the per-location L2-normalised dense
    features over the mask. Masks may come at any resolution; each is
    resized with area interpolation to the cells of the feature grid that
    its image covers, which turns it into per-cell coverage weights in
    ``[0, 1]`` (a binary mask gives the fraction of each cell it covers), and
    the features are averaged with these weights. Soft masks in ``[0, 1]``
    weight locations the same way.

    Where the masks lie on the grid:

    - without a scale factor (no ``scale_factors``, or ``None`` for that
      image) they span the whole (padded) input, so the whole map: masks in
      padded-input pixels, or already at the map's resolution (passed
      through unchanged);
    - with ``scale_factors`` (MMDetection's ``scale_factor`` ``(w, h)``,
      mask pixels to input pixels) they are in original-image pixels: the
      resized image sits at the top-left of the padded input (MMDetection
      pads bottom/right), so a ``(H, W)`` mask covers the first
      ``round(H * h_scale / p)`` x ``round(W * w_scale / p)`` cells (at least
      one, at most the map) and the padding cells get weight 0.

    An empty mask (all zeros) gives a zero vector, not NaN. Fully batched:
    one area interpolation per group of images whose masks share a size,
    one ``einsum`` for the whole batch. Runs in float32.

    Args:
        patch_size: Stride of the dense map in input pixels; needed only
            with ``scale_factors``.
        normalize_input: L2-normalise the dense features per location
            before averaging (CLIPSelf's ``mask_pool``). Maps from the
            package's towers are already normalised (``normalize_dense``).
        normalize: L2-normalise each pooled embedding.
    """

    def __init__(self,
                 patch_size: Optional[int] = None,
                 normalize_input: bool = True,
                 normalize: bool = False) -> None:
        super().__init__()
        if patch_size is not None and (int(patch_size) != patch_size
                                       or patch_size < 1):
            raise ValueError('DenseMaskPool patch_size must be a positive '
                             f'integer, got {patch_size!r}')
        self.patch_size = None if patch_size is None else int(patch_size)
        self.normalize_input = normalize_input
        self.normalize = normalize

    def _grid(self, mask_shape: Tuple[int, int], map_shape: Tuple[int, int],
              scale_factor: Optional[Sequence[float]]) -> Tuple[int, int]:
        """Cells ``(gh, gw)`` covered by masks of ``mask_shape``."""
        hf, wf = map_shape
        if scale_factor is None:
            return hf, wf
        if self.patch_size is None:
            raise ValueError('DenseMaskPool needs a patch_size to place '
                             'masks given with scale_factors on the map')
        sx, sy = scale_factor
        h, w = mask_shape
        gh = min(hf, max(1, round(h * sy / self.patch_size)))
        gw = min(wf, max(1, round(w * sx / self.patch_size)))
        return gh, gw

    def coverage(self,
                 masks: Sequence[Tensor],
                 map_shape: Sequence[int],
                 scale_factors: ScaleFactors = None) -> Tensor:
        """Per-cell weights of every mask, zero-padded over images.

        Args:
            masks: Per image, ``(K_b, H_b, W_b)`` masks.
            map_shape: ``(h, w)`` of the dense map.
            scale_factors: Per image ``(w_scale, h_scale)`` or ``None``, or
                ``None`` for all (see the class docstring).

        Returns:
            ``(B, max K_b, h, w)`` float32 weights; rows past ``K_b`` are 0.
        """
        h, w = (int(s) for s in map_shape)
        kmax = max((len(m) for m in masks), default=0)
        device = masks[0].device if len(masks) else None
        out = torch.zeros(len(masks), kmax, h, w, device=device)
        groups: Dict[Tuple[int, ...], List[int]] = {}
        for b, m in enumerate(masks):
            sf = None if scale_factors is None else scale_factors[b]
            size = tuple(m.shape[-2:]) + self._grid(m.shape[-2:], (h, w), sf)
            groups.setdefault(size, []).append(b)
        for (_, _, gh, gw), images in groups.items():
            flat = torch.cat([masks[b] for b in images]).float()
            if not len(flat):
                continue
            cover = F.interpolate(flat[:, None], (gh, gw), mode='area')
            counts = [len(masks[b]) for b in images]
            for b, c in zip(images, cover[:, 0].split(counts)):
                out[b, :len(c), :gh, :gw] = c
        return out

    def forward(
            self,
            dense: Tensor,
            masks: Masks,
            scale_factors: ScaleFactors = None) -> Union[Tensor, List[Tensor]]:
        """Pool one embedding per mask.

        Args:
            dense: ``(B, D, h, w)`` dense CLIP map.
            masks: ``(B, K, H, W)`` masks (e.g. queries), or per image a
                ``(K_b, H_b, W_b)`` tensor (sizes and counts may differ);
                binary or soft in ``[0, 1]``, any dtype.
            scale_factors: Per image ``(w_scale, h_scale)`` from original
                image pixels to input pixels, or ``None`` (for one image or
                all) when the masks span the whole padded input.

        Returns:
            ``(B, K, D)`` for a mask tensor, else per image ``(K_b, D)``;
            float32, L2-normalised if ``normalize``.
        """
        if dense.dim() != 4:
            raise ValueError('DenseMaskPool takes a (B, D, h, w) dense map, '
                             f'got shape {tuple(dense.shape)}')
        batched = isinstance(masks, Tensor)
        if batched and masks.dim() != 4:
            raise ValueError('DenseMaskPool takes (B, K, H, W) masks or a '
                             'list of (K, H, W) masks per image, got shape '
                             f'{tuple(masks.shape)}')
        per_image = [torch.as_tensor(m, device=dense.device) for m in masks]
        if len(per_image) != dense.size(0):
            raise ValueError(f'{len(per_image)} mask sets for a batch of '
                             f'{dense.size(0)} dense maps')
        for b, m in enumerate(per_image):
            if m.dim() != 3:
                raise ValueError(f'masks of image {b} must be (K, H, W), '
                                 f'got shape {tuple(m.shape)}')
        if scale_factors is not None and len(scale_factors) != len(masks):
            raise ValueError(f'{len(scale_factors)} scale factors for '
                             f'{len(masks)} images')
        weights = self.coverage(per_image, dense.shape[-2:], scale_factors)
        feats = dense.float()
        if self.normalize_input:
            feats = F.normalize(feats, dim=1)
        summed = torch.einsum('bkhw,bdhw->bkd', weights, feats)
        total = weights.sum((2, 3))[..., None]
        pooled = summed / torch.where(total > 0, total, torch.ones_like(total))
        if self.normalize:
            pooled = F.normalize(pooled, dim=-1)
        if batched:
            return pooled
        return [pooled[b, :len(m)] for b, m in enumerate(per_image)]
