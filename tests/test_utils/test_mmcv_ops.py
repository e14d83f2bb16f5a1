# Copyright (c) mmclipself contributors. All rights reserved.
"""The mmcv build has working compiled ops (what set-up builds from source)."""
import torch
from mmcv.ops import RoIAlign, batched_nms, nms

from mmclipself.utils import collect_env


def test_roi_align_matches_average_of_a_constant_region():
    feats = torch.zeros(1, 1, 16, 16)
    feats[..., 4:8, 4:8] = 3.
    rois = torch.tensor([[0., 4., 4., 8., 8.]])
    out = RoIAlign((2, 2), spatial_scale=1., sampling_ratio=2,
                   aligned=True)(feats, rois)
    assert out.shape == (1, 1, 2, 2)
    assert torch.allclose(out, torch.full_like(out, 3.))


def test_nms_keeps_the_best_of_overlapping_boxes():
    boxes = torch.tensor([[0., 0., 10., 10.], [1., 1., 11., 11.],
                          [20., 20., 30., 30.]])
    scores = torch.tensor([0.6, 0.9, 0.5])
    _, keep = nms(boxes, scores, iou_threshold=0.5)
    assert keep.tolist() == [1, 2]
    _, keep = batched_nms(boxes, scores, torch.tensor([0, 1, 0]),
                          dict(type='nms', iou_threshold=0.5))
    assert sorted(keep.tolist()) == [0, 1, 2]  # different classes kept


def test_collect_env_reports_compiled_ops():
    env = collect_env()
    assert env['MMCV ops'].startswith('compiled with')
    assert env['mmclipself'].startswith('0.')
