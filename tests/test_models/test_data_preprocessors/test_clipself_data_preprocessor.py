# Copyright (c) mmclipself contributors. All rights reserved.
import pytest
import torch
import torch.nn.functional as F
from mmengine.structures import BaseDataElement

from mmclipself.models.data_preprocessors import (CLIP_MEAN, CLIP_STD,
                                                  CLIPSelfDataPreprocessor)

MEAN = torch.tensor(CLIP_MEAN).view(3, 1, 1) * 255
STD = torch.tensor(CLIP_STD).view(3, 1, 1) * 255


def _sample(regions, crops=None):
    s = BaseDataElement()
    s.regions = torch.tensor(regions, dtype=torch.float32)
    s.crop_regions = s.regions if crops is None else torch.tensor(
        crops, dtype=torch.float32)
    return s


def test_student_resize_longest_normalise_and_pad_bottom_right():
    pre = CLIPSelfDataPreprocessor(
        student_size=64, crop_size=16, bgr_to_rgb=False)
    img = torch.randint(0, 256, (3, 20, 40), dtype=torch.uint8)
    out = pre(dict(inputs=[img], data_samples=[_sample([[0, 0, 40, 20]])]))
    student = out['inputs']['images']
    assert student.shape == (1, 3, 64, 64)
    ref = F.interpolate(
        img[None].float(),
        size=(32, 64),
        mode='bicubic',
        align_corners=False,
        antialias=True).clamp(0, 255)
    assert torch.allclose(
        student[0, :, :32], ((ref[0] - MEAN) / STD), atol=1e-4)
    assert (student[0, :, 32:] == 0).all()  # zero after normalisation
    assert torch.allclose(out['inputs']['rois'],
                          torch.tensor([[0., 0., 0., 64., 32.]]))


def test_teacher_crop_is_the_box_resized_and_centred_on_black():
    # A crop whose pixels are all one colour, surrounded by another colour:
    # inside the box window the crop has the box colour, the padding is
    # black (release ResizeMaxSize pads with 0 before normalisation).
    pre = CLIPSelfDataPreprocessor(
        student_size=32, crop_size=16, bgr_to_rgb=False)
    img = torch.full((3, 30, 40), 200, dtype=torch.uint8)
    img[:, 10:18, 4:36] = 50  # a 32 x 8 box
    out = pre(dict(inputs=[img], data_samples=[_sample([[4, 10, 36, 18]])]))
    crop = out['inputs']['crops'][0] * STD + MEAN  # back to pixels
    assert crop.shape == (3, 16, 16)
    # the box is 4:1, so it fills 16 x 4 rows centred at rows 6..9
    assert torch.allclose(
        crop[:, 6:10, :], torch.full((3, 4, 16), 50.), atol=0.5)
    assert torch.allclose(crop[:, :6], torch.zeros(3, 6, 16), atol=1e-3)
    assert torch.allclose(crop[:, 10:], torch.zeros(3, 6, 16), atol=1e-3)


def test_crops_match_a_per_box_reference_for_many_boxes_at_once():
    torch.manual_seed(0)
    pre = CLIPSelfDataPreprocessor(
        student_size=64, crop_size=24, bgr_to_rgb=True)
    yy, xx = torch.meshgrid(
        torch.arange(48.), torch.arange(64.), indexing='ij')
    smooth = torch.stack([xx * 3, yy * 4, 128 + 60 * torch.sin(xx / 9)])
    imgs = [
        smooth.round().to(torch.uint8),
        torch.randint(0, 256, (3, 40, 30), dtype=torch.uint8)
    ]
    boxes = [[[0, 0, 64, 48], [8, 8, 32, 20]], [[0, 0, 15, 40]]]
    out = pre(dict(inputs=imgs, data_samples=[_sample(b) for b in boxes]))
    crops = out['inputs']['crops']
    assert crops.shape == (3, 3, 24, 24)
    # reference for the first box (the whole 64x48 image): a 24x18 resize
    # centred vertically (3 black rows above)
    rgb = imgs[0].flip(0).float()[None]
    ref = F.interpolate(rgb, size=(18, 24), mode='area')[0]
    got = crops[0] * STD + MEAN
    # roi_align's adaptive sampling vs area averaging: close on a smooth image
    assert (got[:, 3:21] - ref).abs().mean() < 1.5
    assert got[:, :3].abs().max() < 1e-3 and got[:, 21:].abs().max() < 1e-3
    assert torch.equal(out['inputs']['rois'][:, 0], torch.tensor([0., 0., 1.]))


def test_bad_batches_are_reported():
    pre = CLIPSelfDataPreprocessor(student_size=32, crop_size=8)
    with pytest.raises(ValueError, match=r'\(3, 0, 5\)'):
        pre(
            dict(
                inputs=[torch.zeros(3, 0, 5, dtype=torch.uint8)],
                data_samples=[_sample([[0, 0, 1, 1]])]))
    with pytest.raises(ValueError, match='2 images but 1 data samples'):
        pre(
            dict(
                inputs=[torch.zeros(3, 4, 4, dtype=torch.uint8)] * 2,
                data_samples=[_sample([[0, 0, 1, 1]])]))
