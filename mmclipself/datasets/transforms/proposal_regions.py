# Copyright (c) mmclipself contributors. All rights reserved.
from typing import Optional

import numpy as np
from mmcv.transforms import BaseTransform

from mmclipself.registry import TRANSFORMS


@TRANSFORMS.register_module()
class ProposalRegions(BaseTransform):
    """Regions from region proposals (CLIPSelf's proposal mode).

    Follows the official release (reference facts §2): proposals are
    shuffled and at most ``max_regions`` kept; boxes smaller than
    ``min_size``\\ :sup:`2` or larger than ``max_size``\\ :sup:`2` pixels are
    skipped; the student pools the tight box while the teacher crop is the
    box enlarged ``crop_scale`` times around its centre, clipped to the
    image. If no box survives, the release falls back to the top-left
    quarter of the image (``fallback='quarter'``); ``fallback='error'``
    raises instead.

    Required keys: ``proposals`` (K, 4) xyxy, ``img_shape``. Added keys:
    ``regions`` and ``crop_regions`` (float32 xyxy).

    Args:
        max_regions: Proposals kept per image. Defaults to 20 (release).
        min_size: Minimum box side in pixels (area >= min_size**2). 8.
        max_size: Maximum (area <= max_size**2). 1024.
        crop_scale: Enlargement of the teacher crop. 1.5 (release).
        fallback: ``'quarter'`` or ``'error'``.
    """

    def __init__(self,
                 max_regions: Optional[int] = 20,
                 min_size: float = 8.,
                 max_size: float = 1024.,
                 crop_scale: float = 1.5,
                 fallback: str = 'quarter') -> None:
        if fallback not in ('quarter', 'error'):
            raise ValueError(f"fallback must be 'quarter' or 'error', got "
                             f'{fallback!r}')
        self.max_regions = max_regions
        self.min_size = min_size
        self.max_size = max_size
        self.crop_scale = crop_scale
        self.fallback = fallback

    def transform(self, results: dict) -> dict:
        height, width = results['img_shape'][:2]
        boxes = np.asarray(results['proposals'], np.float32).reshape(-1, 4)
        boxes = boxes[np.random.permutation(len(boxes))]
        area = (boxes[:, 2] - boxes[:, 0]) * (boxes[:, 3] - boxes[:, 1])
        keep = (area >= self.min_size**2) & (area <= self.max_size**2)
        boxes = boxes[keep][:self.max_regions]
        if len(boxes) == 0:
            if self.fallback == 'error':
                raise ValueError(
                    f'no usable proposal for {results.get("img_path")}')
            boxes = np.array([[0, 0, width / 2, height / 2]], np.float32)
        centre = (boxes[:, :2] + boxes[:, 2:]) / 2
        half = (boxes[:, 2:] - boxes[:, :2]) * self.crop_scale / 2
        crops = np.concatenate([centre - half, centre + half], axis=1)
        crops[:, 0::2] = crops[:, 0::2].clip(0, width)
        crops[:, 1::2] = crops[:, 1::2].clip(0, height)
        results['regions'] = boxes
        results['crop_regions'] = crops.astype(np.float32)
        return results
