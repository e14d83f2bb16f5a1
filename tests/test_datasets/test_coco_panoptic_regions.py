# Copyright (c) mmclipself contributors. All rights reserved.
import pytest
import torch

from mmclipself.datasets import CocoPanopticRegionDataset
from mmclipself.testing.panoptic import write_tiny_panoptic

PIPELINE = [
    dict(type='LoadImageOrSkip'),
    dict(type='LoadPanopticRegions'),
    dict(type='PackRegionInputs'),
]


def test_segments_become_boxes_masks_labels_and_crops(tmp_path):
    ds = CocoPanopticRegionDataset(
        pipeline=PIPELINE, test_mode=True, **write_tiny_panoptic(tmp_path))
    assert ds.metainfo['classes'] == ('cat', 'cup', 'wall-other-merged',
                                      'table-merged')
    assert ds.metainfo['thing_classes'] == ('cat', 'cup')
    cat = ds[0]['data_samples']
    assert cat.gt_labels.tolist() == [0, 2]
    assert cat.is_thing.tolist() == [True, False]
    assert cat.masks.shape == (2, 300, 451)
    assert cat.masks[0].sum() == 192 * 256 and cat.masks[1].sum() == 48 * 451
    assert torch.equal(
        cat.regions, torch.tensor([[96., 48., 352., 240.], [0., 0., 451.,
                                                            48.]]))
    # thing crop: the box enlarged 1.5x (clipped); stuff crop: mask's box
    assert torch.allclose(cat.crop_regions[0],
                          torch.tensor([32., 0., 416., 288.]))
    assert torch.equal(cat.crop_regions[1], cat.regions[1])
    coffee = ds[1]['data_samples']
    assert coffee.gt_labels.tolist() == [1, 3]  # the crowd cat is dropped


def test_missing_png_is_named(tmp_path):
    cfg = write_tiny_panoptic(tmp_path)
    (tmp_path / 'pan' / 'chelsea_pan.png').unlink()
    ds = CocoPanopticRegionDataset(pipeline=PIPELINE, test_mode=True, **cfg)
    with pytest.raises(FileNotFoundError, match='chelsea_pan.png'):
        ds[0]
