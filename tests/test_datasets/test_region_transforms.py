# Copyright (c) mmclipself contributors. All rights reserved.
import numpy as np
import pytest

from mmclipself.datasets.transforms import (PackRegionInputs, ProposalRegions,
                                            RandomGridRegions)


@pytest.mark.parametrize('shape,split', [((480, 640), (3, 5)),
                                         ((101, 37), (6, 1)),
                                         ((7, 7), (1, 1))])
def test_grid_tiles_cover_the_image_exactly(shape, split):
    h, w = shape
    t = RandomGridRegions(split=split, shuffle=False)
    out = t(dict(img_shape=shape))
    boxes = out['regions']
    assert boxes.shape == (split[0] * split[1], 4)
    area = ((boxes[:, 2] - boxes[:, 0]) * (boxes[:, 3] - boxes[:, 1])).sum()
    assert area == pytest.approx(h * w, rel=1e-6)  # no gap ...
    canvas = np.zeros(shape, np.int32)
    for x1, y1, x2, y2 in boxes:  # ... and no overlap: each pixel once
        canvas[round(y1):round(y2), round(x1):round(x2)] += 1
    assert (canvas == 1).all()
    assert boxes[:, [0, 1]].min() == 0 and boxes[:, 2].max() == w and \
        boxes[:, 3].max() == h
    np.testing.assert_array_equal(out['crop_regions'], boxes)


def test_release_rule_pairs_and_cap():
    t = RandomGridRegions(max_split=6, sampling='release', max_regions=20)
    assert (1, 1) in t.release_pairs and (6, 3) in t.release_pairs
    assert (1, 3) not in t.release_pairs and (6, 2) not in t.release_pairs
    np.random.seed(0)
    seen = set()
    for _ in range(300):
        out = t(dict(img_shape=(300, 400)))
        m, n = out['grid_split']
        assert (m + 1) // 2 <= n <= min(2 * m, 6)
        assert len(out['regions']) == min(m * n, 20)
        seen.add((m, n))
    assert len(seen) == len(t.release_pairs)  # every pair is drawn


def test_paper_rule_draws_all_of_1_to_m():
    np.random.seed(0)
    t = RandomGridRegions(max_split=6)
    splits = {t.sample_split() for _ in range(500)}
    assert splits == {(m, n) for m in range(1, 7) for n in range(1, 7)}
    with pytest.raises(ValueError, match='sampling'):
        RandomGridRegions(sampling='grid')


def test_proposals_filtering_enlarged_crops_and_fallback():
    np.random.seed(0)
    props = np.array(
        [
            [10, 10, 50, 30],  # kept
            [0, 0, 4, 4],  # too small (< 8^2)
            [90, 60, 100, 100]
        ],
        np.float32)  # kept, crop clipped
    out = ProposalRegions()(dict(img_shape=(100, 100), proposals=props))
    regions = out['regions'][np.argsort(out['regions'][:, 0])]
    crops = out['crop_regions'][np.argsort(out['regions'][:, 0])]
    np.testing.assert_allclose(regions, props[[0, 2]])
    np.testing.assert_allclose(crops[0], [0, 5, 60, 35])  # 1.5x, clipped
    np.testing.assert_allclose(crops[1], [87.5, 50, 100, 100])
    out = ProposalRegions()(
        dict(img_shape=(60, 80), proposals=np.zeros((0, 4))))
    np.testing.assert_allclose(out['regions'], [[0, 0, 40, 30]])
    with pytest.raises(ValueError, match='no usable proposal for a.jpg'):
        ProposalRegions(fallback='error')(
            dict(img_shape=(60, 80), proposals=props[1:2], img_path='a.jpg'))


def test_pack_rejects_images_without_regions():
    img = np.zeros((8, 8, 3), np.uint8)
    packed = PackRegionInputs()(
        dict(img=img, regions=np.array([[0, 0, 4, 4]]), img_path='x.png'))
    assert packed['inputs'].shape == (3, 8, 8)
    assert packed['data_samples'].regions.shape == (1, 4)
    with pytest.raises(ValueError, match='x.png: no region'):
        PackRegionInputs()(
            dict(img=img, regions=np.zeros((0, 4)), img_path='x.png'))
