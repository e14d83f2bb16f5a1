# Copyright (c) mmclipself contributors. All rights reserved.
import pytest
import torch
import torch.nn.functional as F

from mmclipself.models.layers import DenseRoIPool
from mmclipself.registry import MODELS


def _map() -> torch.Tensor:
    """(2, 2, 4, 4): channel 0 = (4i + j)^2, channel 1 = 10i + j.

    Image 1 is image 0 plus 1000.
    """
    i, j = torch.meshgrid(torch.arange(4.), torch.arange(4.), indexing='ij')
    one = torch.stack([(4 * i + j)**2, 10 * i + j])
    return torch.stack([one, one + 1000])


def _rois(*boxes):
    return torch.tensor(boxes, dtype=torch.float32)


def test_box_on_the_patch_grid_is_the_mean_of_its_cells_patch_8():
    pool = DenseRoIPool(patch_size=8)
    # input 32x32, cells of 8 px: x 8..24, y 8..24 covers cells 1..2 x 1..2
    out = pool(_map(), _rois([0, 8, 8, 24, 24], [1, 8, 8, 24, 24]))
    # (5^2 + 6^2 + 9^2 + 10^2) / 4 and (11 + 12 + 21 + 22) / 4
    torch.testing.assert_close(out,
                               torch.tensor([[60.5, 16.5], [1060.5, 1016.5]]))


def test_box_on_the_patch_grid_is_the_mean_of_its_cells_patch_16():
    pool = DenseRoIPool(patch_size=16)
    # input 64x64: x 16..48 -> cells 1..2, y 32..64 -> cells 2..3
    out = pool(_map(), _rois([0, 16, 32, 48, 64]))
    # (9^2 + 10^2 + 13^2 + 14^2) / 4 and (21 + 22 + 31 + 32) / 4
    torch.testing.assert_close(out, torch.tensor([[136.5, 26.5]]))


def test_half_cell_box_samples_between_centres_aligned_convention():
    # aligned=True: x 4..12 -> cells 0..1, one sample at x = 0.5;
    # y 0..8 -> cells -0.5..0.5, one sample at y = 0 (cell centres at j).
    # Bilinear value at (y 0, x 0.5): channel 0 (0 + 1) / 2, channel 1 the
    # same. (aligned=False would sample (y 0.5, x 1.0): (1 + 25) / 2 = 13.)
    out = DenseRoIPool(patch_size=8)(_map(), _rois([0, 4, 0, 12, 8]))
    torch.testing.assert_close(out, torch.tensor([[0.5, 0.5]]))


def test_general_box_on_a_linear_map_gives_its_centre():
    # channel 1 is linear, so the average of the bilinear samples is its
    # value at the samples' mean: x 10..30 -> cells 0.75..3.25, 3 samples
    # at 7/6, 2, 17/6 (mean 2); y 6..22 -> 0.25..2.25, samples 0.75, 1.75
    # (mean 1.25); 10 * 1.25 + 2 = 14.5
    out = DenseRoIPool(patch_size=8)(_map(), _rois([0, 10, 6, 30, 22]))
    assert out[0, 1].item() == pytest.approx(14.5, abs=1e-5)


def test_stride_derived_from_the_input_shape_and_checked():
    dense = _map()
    rois = _rois([0, 16, 32, 48, 64], [1, 8, 8, 24, 24])
    derived = DenseRoIPool()
    assert derived.stride((4, 4), (64, 64)) == 16
    torch.testing.assert_close(
        derived(dense, rois, (64, 64)),
        DenseRoIPool(patch_size=16)(dense, rois))
    torch.testing.assert_close(
        derived(dense, rois, (32, 32)),
        DenseRoIPool(patch_size=8)(dense, rois))
    # patch size and input shape together must agree
    torch.testing.assert_close(
        DenseRoIPool(patch_size=16)(dense, rois, (64, 64)),
        derived(dense, rois, (64, 64)))
    with pytest.raises(ValueError, match='expects patch_size 8'):
        DenseRoIPool(patch_size=8)(dense, rois, (64, 64))
    with pytest.raises(ValueError, match='not a whole number of cells'):
        derived(dense, rois, (60, 64))
    with pytest.raises(ValueError, match='not a whole number of cells'):
        derived(dense, rois, (32, 64))
    with pytest.raises(ValueError, match='no patch_size'):
        derived(dense, rois)


def test_normalize_float32_and_registry():
    pool = MODELS.build(
        dict(type='DenseRoIPool', patch_size=8, normalize=True))
    out = pool(_map().half(), _rois([0, 8, 8, 24, 24]).half())
    assert out.dtype == torch.float32
    torch.testing.assert_close(
        out, F.normalize(torch.tensor([[60.5, 16.5]]), dim=-1))
    empty = pool(_map(), torch.zeros(0, 5))
    assert empty.shape == (0, 2)


def test_bad_input_is_named():
    pool = DenseRoIPool(patch_size=8)
    with pytest.raises(ValueError, match='positive integer'):
        DenseRoIPool(patch_size=0)
    with pytest.raises(ValueError, match=r'\(B, D, h, w\)'):
        pool(_map()[0], _rois([0, 8, 8, 24, 24]))
    with pytest.raises(ValueError, match=r'\(N, 5\).*\(1, 4\)'):
        pool(_map(), _rois([8, 8, 24, 24]))
    with pytest.raises(ValueError, match=r'batch indices.*\[0, 2\)'):
        pool(_map(), _rois([2, 8, 8, 24, 24]))
