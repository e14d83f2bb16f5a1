# Copyright (c) mmclipself contributors. All rights reserved.
"""K-Means tool: the tower sees the picture padded to a square, as in
training, and only the cells covering the picture are clustered."""
import os.path as osp
import runpy

import numpy as np
import pytest
import skimage.data
import torch
import torch.nn.functional as F
from PIL import Image

from mmclipself.models.data_preprocessors import CLIPSelfDataPreprocessor
from mmclipself.testing.towers import tiny_openai

REPO = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))
TOOL = osp.join(REPO, 'tools', 'analysis', 'visualize_kmeans.py')


class _Recording:
    """A tower that records its inputs and returns a given dense map."""

    patch_size = 8

    def __init__(self, dense=None):
        self.inputs = []
        self.dense = dense
        self.tower = tiny_openai().eval()

    def forward_dense(self, x):
        self.inputs.append(x)
        return self.tower.forward_dense(x) if self.dense is None else \
            self.dense


def _photo(w=45, h=30):
    return Image.fromarray(skimage.data.chelsea()).resize((w, h))


def test_the_tower_sees_the_training_input():
    cluster_image = runpy.run_path(TOOL)['cluster_image']
    tower, img = _Recording(), _photo()
    out = cluster_image(tower, img, 32, k=3, min_fraction=0., device='cpu')
    assert out.shape == (30, 45, 3) and out.dtype == np.uint8
    (x, ) = tower.inputs
    rgb = torch.from_numpy(np.array(img)).permute(2, 0, 1)
    expected, _ = CLIPSelfDataPreprocessor(
        student_size=32, bgr_to_rgb=False).student_batch([rgb])
    assert torch.equal(x, expected)
    # 45x30 -> 32x21 at the top-left, zeros below
    assert x[..., 21:, :].abs().sum() == 0 and x[..., 20, :].abs().sum() > 0
    with pytest.raises(ValueError, match='not a multiple of the patch'):
        cluster_image(tower, img, 36, k=3, min_fraction=0., device='cpu')


def test_only_the_cells_covering_the_picture_are_clustered():
    cluster_image = runpy.run_path(TOOL)['cluster_image']
    # 32x21 picture in a 32x32 square of 8-pixel cells: the picture covers
    # rows 0-2 of the 4x4 cells (row 2 partly); row 3 is padding
    torch.manual_seed(0)
    dense = F.normalize(torch.randn(16, 4, 4), dim=0)
    dense[:, 3] = dense[:, 3, :1]  # the padding cells: one shared feature
    tower = _Recording(dense[None])
    # 12 picture cells, one cluster each, each 1/12 of the cells: kept. Had
    # the 4 padding cells been clustered too, each picture cell would be
    # 1/16 < 0.08 of the cells and blacked out
    out = cluster_image(
        tower, _photo(), 32, k=13, min_fraction=0.08, device='cpu')
    colours = {tuple(c) for c in out.reshape(-1, 3)}
    assert len(colours) == 12 and (0, 0, 0) not in colours
    # pixel (y, x) of the 45x30 picture shows the cell of its resized
    # position (nearest): row floor(y * 21 / 30) // 8, col floor(x * 32 /
    # 45) // 8
    ys = (np.arange(30) * 21 // 30) // 8
    xs = (np.arange(45) * 32 // 45) // 8
    cell = ys[:, None] * 4 + xs[None, :]
    for c in np.unique(cell):
        pixels = {tuple(p) for p in out[cell == c]}
        assert len(pixels) == 1, c
    assert len({tuple(out[cell == c][0]) for c in np.unique(cell)}) == 12
