# Copyright (c) mmclipself contributors. All rights reserved.
import pytest
import torch
import torch.nn.functional as F

from mmclipself.models.layers import DenseMaskPool
from mmclipself.registry import MODELS

P = 8  # patch size; padded input 32x32 -> 4x4 map


def _loop_reference(dense, masks, scale_factors, normalize_input=True):
    """One mask at a time, cell weights as block means over mask pixels.

    Valid when each covered cell is a whole block of mask pixels.
    """
    out = []
    for b, image_masks in enumerate(masks):
        feats = dense[b].float()
        if normalize_input:
            feats = F.normalize(feats, dim=0)
        hf, wf = feats.shape[-2:]
        pooled = []
        for mask in image_masks:
            h, w = mask.shape
            sf = scale_factors[b]
            gh, gw = (hf, wf) if sf is None else (round(h * sf[1] / P),
                                                  round(w * sf[0] / P))
            bh, bw = h // gh, w // gw
            assert bh * gh == h and bw * gw == w  # whole blocks
            weights = torch.zeros(hf, wf)
            for i in range(gh):
                for j in range(gw):
                    block = mask[i * bh:(i + 1) * bh, j * bw:(j + 1) * bw]
                    weights[i, j] = block.float().mean()
            total = weights.sum()
            if total == 0:
                pooled.append(torch.zeros(feats.size(0)))
            else:
                pooled.append((weights * feats).sum((1, 2)) / total)
        out.append(
            torch.stack(pooled) if pooled else torch.zeros(0, feats.size(0)))
    return out


def _masks():
    """Three images, masks at different resolutions, one empty mask."""
    g = torch.Generator().manual_seed(0)
    # image 0: original 48x32, scale 0.5 -> 24x16 px -> 3x2 cells of
    # 16x16 mask pixels (rows 3, column 2..3 are padding)
    m0 = (torch.rand(3, 48, 32, generator=g) > 0.6).to(torch.uint8)
    # image 1: original 16x12, scale 2 -> 32x24 px -> 4x3 cells of 4x4
    m1 = (torch.rand(2, 16, 12, generator=g) > 0.5).to(torch.uint8)
    m1[1] = 0  # empty mask -> zero vector
    # image 2: masks in padded-input pixels (no scale factor): 4x4 cells
    m2 = torch.rand(2, 32, 32, generator=g) > 0.7
    return [m0, m1, m2], [(0.5, 0.5), (2., 2.), None]


def test_matches_a_per_mask_loop_with_scale_factors_padding_and_empty():
    torch.manual_seed(0)
    dense = torch.randn(3, 5, 4, 4)
    masks, scale_factors = _masks()
    pool = DenseMaskPool(patch_size=P)
    out = pool(dense, masks, scale_factors)
    ref = _loop_reference(dense, masks, scale_factors)
    assert [o.shape for o in out] == [(3, 5), (2, 5), (2, 5)]
    for o, r in zip(out, ref):
        torch.testing.assert_close(o, r)
    assert torch.equal(out[1][1], torch.zeros(5))  # the empty mask
    # padding cells never count: changing them changes nothing
    dense2 = dense.clone()
    dense2[0, :, 3] = 100.
    dense2[0, :, :, 2:] = 100.
    torch.testing.assert_close(pool(dense2, masks, scale_factors)[0], out[0])


def test_uneven_cells_match_per_mask_area_pooling():
    # original 50x37 at scale 0.6 -> 30x22.2 px -> 4x3 cells (rounded),
    # uneven blocks: each mask is area-pooled alone (adaptive average)
    torch.manual_seed(2)
    dense = torch.randn(2, 4, 5, 5)
    masks = [(torch.rand(4, 50, 37) > 0.5).float(), torch.rand(1, 20, 40)]
    out = DenseMaskPool(
        P, normalize_input=False)(dense, masks, [(0.6, 0.6), (1., 1.)])
    for b, (gh, gw) in enumerate([(4, 3), (2, 5)]):
        for k, mask in enumerate(masks[b]):
            weights = torch.zeros(5, 5)
            weights[:gh, :gw] = F.adaptive_avg_pool2d(mask[None], (gh, gw))[0]
            ref = (weights * dense[b]).sum((1, 2)) / weights.sum()
            torch.testing.assert_close(out[b][k], ref)


def test_without_input_normalisation_and_with_output_normalisation():
    torch.manual_seed(1)
    dense = torch.randn(3, 5, 4, 4)
    masks, scale_factors = _masks()
    raw = DenseMaskPool(P, normalize_input=False)(dense, masks, scale_factors)
    ref = _loop_reference(dense, masks, scale_factors, normalize_input=False)
    normed = DenseMaskPool(P, normalize=True)(dense, masks, scale_factors)
    for o, r, n, r_in in zip(raw, ref, normed,
                             _loop_reference(dense, masks, scale_factors)):
        torch.testing.assert_close(o, r)
        torch.testing.assert_close(n, F.normalize(r_in, dim=-1))


def test_mask_tensor_at_feature_resolution_is_the_mean_of_cells():
    dense = torch.arange(
        2 * 2 * 3 * 3, dtype=torch.float32).reshape(2, 2, 3, 3)
    masks = torch.zeros(2, 2, 3, 3, dtype=torch.bool)
    masks[0, 0, 0, :2] = True  # cells (0, 0), (0, 1) of image 0
    masks[1, 1, 2, 2] = True  # cell (2, 2) of image 1
    out = DenseMaskPool(normalize_input=False)(dense, masks)
    assert out.shape == (2, 2, 2)
    # image 0: channel 0 cells 0, 1 -> 0.5; channel 1 cells 9, 10 -> 9.5
    torch.testing.assert_close(out[0, 0], torch.tensor([0.5, 9.5]))
    # image 1 cell (2, 2): channel 0 is 18 + 8, channel 1 is 27 + 8
    torch.testing.assert_close(out[1, 1], torch.tensor([26., 35.]))
    assert torch.equal(out[0, 1], torch.zeros(2))  # empty
    assert torch.equal(out[1, 0], torch.zeros(2))


def test_soft_masks_weight_locations_and_images_without_masks():
    dense = torch.zeros(2, 1, 1, 2)
    dense[0, 0, 0] = torch.tensor([2., 6.])
    soft = torch.tensor([[[0.25, 0.75]]])  # weights 1/4, 3/4
    pool = MODELS.build(dict(type='DenseMaskPool', normalize_input=False))
    out = pool(dense, [soft, torch.zeros(0, 1, 2)])
    torch.testing.assert_close(out[0], torch.tensor([[0.25 * 2 + 0.75 * 6]]))
    assert out[1].shape == (0, 1)


def test_bad_input_is_named():
    pool = DenseMaskPool()
    dense = torch.zeros(2, 3, 4, 4)
    with pytest.raises(ValueError, match='positive integer'):
        DenseMaskPool(patch_size=1.5)
    with pytest.raises(ValueError, match=r'\(B, D, h, w\)'):
        pool(dense[0], [torch.zeros(1, 4, 4)])
    with pytest.raises(ValueError, match=r'\(B, K, H, W\)'):
        pool(dense, torch.zeros(2, 4, 4))
    with pytest.raises(ValueError, match='1 mask sets for a batch of 2'):
        pool(dense, [torch.zeros(1, 4, 4)])
    with pytest.raises(ValueError, match=r'image 1 must be \(K, H, W\)'):
        pool(dense, [torch.zeros(1, 4, 4), torch.zeros(4, 4)])
    with pytest.raises(ValueError, match='needs a patch_size'):
        pool(dense, [torch.zeros(1, 8, 8)] * 2, [(1., 1.)] * 2)
    with pytest.raises(ValueError, match='1 scale factors for 2 images'):
        pool(dense, [torch.zeros(1, 8, 8)] * 2, [(1., 1.)])
