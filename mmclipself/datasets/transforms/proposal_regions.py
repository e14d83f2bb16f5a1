# Copyright (c) mmclipself contributors. All rights reserved.
import logging
from typing import Dict, Optional

import numpy as np
from mmcv.transforms import BaseTransform
from mmengine.logging import print_log

from mmclipself.registry import TRANSFORMS

#: What each counted event means; the first one of each kind is logged.
_EVENTS = dict(
    degenerate=('proposal with a non-finite coordinate or a zero or '
                'negative width/height dropped'),
    outside='proposal entirely outside the image dropped',
    clipped='proposal partly outside the image clipped to it',
    size='proposal outside the release size range skipped',
    fallback=('no usable proposal; the top-left quarter of the image is '
              'used instead (release fallback)'),
)


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

    Before the release's size rule, boxes with a non-finite coordinate or
    a zero or negative width or height are dropped, and boxes reaching
    outside the image are clipped to it (dropped if nothing is left); the
    size rule then applies to the clipped box. Every drop, clip and
    fallback is counted in :attr:`counts` (per process; each dataloader
    worker has its own), and the first event of each kind is logged once,
    with the image path, so none passes silently.

    Required keys: ``proposals`` (K, 4) xyxy, ``img_shape``. Added keys:
    ``regions`` and ``crop_regions`` (float32 xyxy).

    Args:
        max_regions: Proposals kept per image. Defaults to 20 (release).
        min_size: Minimum box side in pixels (area >= min_size**2). 8.
        max_size: Maximum (area <= max_size**2). 1024.
        crop_scale: Enlargement of the teacher crop. 1.5 (release).
        fallback: ``'quarter'`` or ``'error'``.

    Attributes:
        counts: Running number of boxes per event kind (``'degenerate'``,
            ``'outside'``, ``'clipped'``, ``'size'``) and of images that
            used the fallback (``'fallback'``).
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
        self.counts: Dict[str, int] = dict.fromkeys(_EVENTS, 0)

    def _count(self, kind: str, num: int, path: Optional[str]) -> None:
        """Count ``num`` events of ``kind``; log the first one only."""
        if num == 0:
            return
        first = self.counts[kind] == 0
        self.counts[kind] += int(num)
        if first:
            # the size rule is the release's normal filtering: info only
            level = logging.INFO if kind == 'size' else logging.WARNING
            print_log(
                f'ProposalRegions: {_EVENTS[kind]} (first in {path}); '
                f'further ones are counted in ProposalRegions.counts'
                f'[{kind!r}], not logged',
                logger='current',
                level=level)

    def _clean(self, boxes: np.ndarray, height: int, width: int,
               path: Optional[str]) -> np.ndarray:
        """Drop degenerate boxes, clip to the image, apply the size rule."""
        valid = np.isfinite(boxes).all(axis=1) & \
            (boxes[:, 2] > boxes[:, 0]) & (boxes[:, 3] > boxes[:, 1])
        self._count('degenerate', (~valid).sum(), path)
        boxes = boxes[valid]
        clipped = boxes.copy()
        clipped[:, 0::2] = clipped[:, 0::2].clip(0, width)
        clipped[:, 1::2] = clipped[:, 1::2].clip(0, height)
        inside = (clipped[:, 2] > clipped[:, 0]) & \
            (clipped[:, 3] > clipped[:, 1])
        self._count('outside', (~inside).sum(), path)
        changed = (clipped != boxes).any(axis=1) & inside
        self._count('clipped', changed.sum(), path)
        boxes = clipped[inside]
        area = (boxes[:, 2] - boxes[:, 0]) * (boxes[:, 3] - boxes[:, 1])
        keep = (area >= self.min_size**2) & (area <= self.max_size**2)
        self._count('size', (~keep).sum(), path)
        return boxes[keep]

    def transform(self, results: dict) -> dict:
        height, width = results['img_shape'][:2]
        path = results.get('img_path')
        boxes = np.asarray(results['proposals'], np.float32).reshape(-1, 4)
        boxes = boxes[np.random.permutation(len(boxes))]
        boxes = self._clean(boxes, height, width, path)[:self.max_regions]
        if len(boxes) == 0:
            if self.fallback == 'error':
                raise ValueError(
                    f'no usable proposal for {path}: none of its '
                    f'{len(results["proposals"])} boxes is inside the image '
                    f'({width}x{height}) with an area of {self.min_size}^2 '
                    f'to {self.max_size}^2 pixels')
            self._count('fallback', 1, path)
            boxes = np.array([[0, 0, width / 2, height / 2]], np.float32)
        centre = (boxes[:, :2] + boxes[:, 2:]) / 2
        half = (boxes[:, 2:] - boxes[:, :2]) * self.crop_scale / 2
        crops = np.concatenate([centre - half, centre + half], axis=1)
        crops[:, 0::2] = crops[:, 0::2].clip(0, width)
        crops[:, 1::2] = crops[:, 1::2].clip(0, height)
        results['regions'] = boxes
        results['crop_regions'] = crops.astype(np.float32)
        return results
