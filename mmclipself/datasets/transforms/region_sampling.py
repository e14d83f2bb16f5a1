# Copyright (c) mmclipself contributors. All rights reserved.
from typing import List, Optional, Tuple

import numpy as np
from mmcv.transforms import BaseTransform

from mmclipself.registry import TRANSFORMS


@TRANSFORMS.register_module()
class RandomGridRegions(BaseTransform):
    """Split the image into an m x n grid of patch regions (paper §3.2).

    The regions are exact tiles of the original-resolution image; the
    student pools them from its dense map and the teacher sees the same
    tiles as crops (release ``crop_scale`` 1.0).

    Two sampling rules:

    - ``'paper'`` (default): m and n drawn independently and uniformly from
      {1, ..., M} (paper §3.2, M = 6, Table 1a);
    - ``'release'``: (m, n) drawn uniformly from the pairs with
      m in 1..M and ceil(m/2) <= n <= min(2m, M), which avoids very
      elongated tiles (official release; what produced the published
      numbers). Use it with ``max_regions=20``.

    Required keys: ``img_shape`` (or ``img``). Added keys: ``regions`` and
    ``crop_regions``, float32 (K, 4) xyxy boxes in image pixels.

    Args:
        max_split: M, the largest number of rows/columns. Defaults to 6.
        sampling: ``'paper'`` or ``'release'``.
        max_regions: Keep at most this many tiles, chosen at random (the
            release keeps 20). ``None`` keeps all m x n tiles.
        shuffle: Shuffle the tiles (release does).
        split: A fixed (rows, columns) grid instead of a random one, e.g.
            for repeatable evaluation.
    """

    def __init__(self,
                 max_split: int = 6,
                 sampling: str = 'paper',
                 max_regions: Optional[int] = None,
                 shuffle: bool = True,
                 split: Optional[Tuple[int, int]] = None) -> None:
        if max_split < 1:
            raise ValueError(f'max_split must be >= 1, got {max_split}')
        if sampling not in ('paper', 'release'):
            raise ValueError(
                f"sampling must be 'paper' or 'release', got {sampling!r}")
        if max_regions is not None and max_regions < 1:
            raise ValueError(f'max_regions must be >= 1, got {max_regions}')
        self.max_split = max_split
        self.sampling = sampling
        self.max_regions = max_regions
        self.shuffle = shuffle
        self.split = None if split is None else tuple(split)
        if self.split is not None and min(self.split) < 1:
            raise ValueError(f'split must be positive, got {split}')
        self.release_pairs = [(m, n) for m in range(1, max_split + 1)
                              for n in range((m + 1) // 2,
                                             min(2 * m, max_split) + 1)]

    def sample_split(self) -> Tuple[int, int]:
        """Draw (rows, columns)."""
        if self.split is not None:
            return self.split
        if self.sampling == 'paper':
            m, n = np.random.randint(1, self.max_split + 1, size=2)
            return int(m), int(n)
        return self.release_pairs[np.random.randint(len(self.release_pairs))]

    @staticmethod
    def grid_boxes(height: int, width: int, rows: int,
                   cols: int) -> np.ndarray:
        """The rows x cols tiles of an image, row-major, xyxy float32."""
        ys = np.linspace(0, height, rows + 1, dtype=np.float64)
        xs = np.linspace(0, width, cols + 1, dtype=np.float64)
        boxes: List[List[float]] = [[xs[j], ys[i], xs[j + 1], ys[i + 1]]
                                    for i in range(rows) for j in range(cols)]
        return np.asarray(boxes, dtype=np.float32)

    def transform(self, results: dict) -> dict:
        shape = results['img_shape'] if 'img_shape' in results else \
            results['img'].shape
        height, width = shape[:2]
        rows, cols = self.sample_split()
        boxes = self.grid_boxes(height, width, rows, cols)
        if self.shuffle:
            boxes = boxes[np.random.permutation(len(boxes))]
        if self.max_regions is not None:
            boxes = boxes[:self.max_regions]
        results['regions'] = boxes
        results['crop_regions'] = boxes.copy()
        results['grid_split'] = (rows, cols)
        return results

    def __repr__(self) -> str:
        return (f'{type(self).__name__}(max_split={self.max_split}, '
                f'sampling={self.sampling!r}, '
                f'max_regions={self.max_regions}, shuffle={self.shuffle}, '
                f'split={self.split})')
