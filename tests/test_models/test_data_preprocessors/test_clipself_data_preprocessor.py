# Copyright (c) mmclipself contributors. All rights reserved.
import os.path as osp

import numpy as np
import pytest
import skimage.data
import torch
import torch.nn.functional as F
from mmengine.structures import BaseDataElement
from open_clip.transform import CenterCropOrPad, ResizeKeepRatio
from PIL import Image
from torchvision.transforms import InterpolationMode

from mmclipself.datasets.transforms import ProposalRegions, RandomGridRegions
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


# --- release crop route (issue 12) ---------------------------------------


def _photo(name):
    return Image.open(osp.join(skimage.data.data_dir, name)).convert('RGB')


def _chw(image):
    return torch.from_numpy(np.asarray(image).transpose(2, 0, 1).copy())


def _pil_release(image, boxes, size):
    """The release route done with PIL: Image.crop (rounds the box),
    longest side to ``size`` with PIL bicubic, centred on black."""
    resize = ResizeKeepRatio(
        size, longest=1, interpolation=InterpolationMode.BICUBIC)
    pad = CenterCropOrPad(size, fill=0)
    crops = [
        np.asarray(pad(resize(image.crop(tuple(map(float, b))))))
        for b in boxes.tolist()
    ]
    return torch.from_numpy(np.stack(crops).transpose(0, 3, 1, 2)).float()


def _psnr(ours, ref):
    mse = ((ours.double() - ref.double())**2).flatten(1).mean(1)
    return 10 * torch.log10(255.**2 / mse)


def _pixels(pre, crops):
    return crops * pre.std + pre.mean


def test_release_crops_match_pil_on_every_tile_of_all_grids():
    # chelsea is 451 px wide: the 2-column tiles end at x = 225.5, a half
    # pixel that must be rounded as PIL's Image.crop rounds it
    image = _photo('chelsea.png')
    w, h = image.size
    boxes = torch.from_numpy(
        np.concatenate([
            RandomGridRegions.grid_boxes(h, w, m, n) for m in range(1, 7)
            for n in range(1, 7)
        ]))
    assert len(boxes) == 441
    pre = CLIPSelfDataPreprocessor(crop_size=224, bgr_to_rgb=False)
    assert pre.crop_mode == 'release'
    ours = _pixels(pre, pre.teacher_crops([_chw(image)], [boxes]))
    psnr = _psnr(ours, _pil_release(image, boxes, 224))
    assert psnr.min() >= 45, psnr.min()
    # the old roi_align route misses this bound on upsampled small tiles
    old = CLIPSelfDataPreprocessor(
        crop_size=224, bgr_to_rgb=False, crop_mode='roi_align')
    old_psnr = _psnr(
        _pixels(old, old.teacher_crops([_chw(image)], [boxes])),
        _pil_release(image, boxes, 224))
    assert old_psnr.min() < 35


def test_release_crops_match_pil_on_enlarged_proposals_at_the_border():
    image = _photo('rocket.jpg')  # 640 x 427
    w, h = image.size
    props = np.array(
        [
            [0, 0, 40, 30],  # corner: the 1.5x crop is clipped twice
            [600.3, 100.7, 640, 180.2],  # right border
            [200.5, 397, 260.5, 427],  # bottom border, half pixels
            [10, 50, 12.5, 250],  # thin: 2.5 px wide
            [100.25, 80.75, 400.6, 300.1],
            [0, 0, 640, 427],  # whole image, enlarged beyond it
        ],
        dtype=np.float32)
    np.random.seed(0)
    res = ProposalRegions(
        max_regions=None, crop_scale=1.5)(
            dict(proposals=props, img_shape=(h, w)))
    boxes = torch.from_numpy(res['crop_regions'])
    assert (boxes[:, :2] == 0).any() and (boxes[:, 2] == w).any()
    assert (boxes[:, 3] == h).any()
    pre = CLIPSelfDataPreprocessor(crop_size=224, bgr_to_rgb=False)
    ours = _pixels(pre, pre.teacher_crops([_chw(image)], [boxes]))
    psnr = _psnr(ours, _pil_release(image, boxes, 224))
    assert psnr.min() >= 45, psnr


def test_release_batching_equals_a_per_crop_loop_exactly():
    torch.manual_seed(0)
    imgs = [
        torch.randint(0, 256, (3, 30, 41), dtype=torch.uint8),
        torch.randint(0, 256, (3, 25, 20), dtype=torch.uint8)
    ]
    # repeated sizes (grouped into one resize) across both images
    boxes = [
        torch.tensor([[0, 0, 10, 10], [5, 5, 15, 15], [0, 0, 41, 30],
                      [3.4, 2.6, 20.5, 9.5]]),
        torch.tensor([[10, 10, 20, 20], [0, 0, 20, 25], [1, 1, 2, 2]])
    ]
    pre = CLIPSelfDataPreprocessor(crop_size=16, bgr_to_rgb=True)
    batched = pre.teacher_crops(imgs, boxes)
    loop = torch.cat([
        pre.teacher_crops([img], [box[None]]) for img, b in zip(imgs, boxes)
        for box in b
    ])
    assert batched.shape == (7, 3, 16, 16)
    assert torch.equal(batched, loop)
    # and each crop is its integer-pixel box resized alone (RGB order)
    x = imgs[0][:, 3:10, 3:20].flip(0).float()[None]  # 2.6->3, 9.5->10
    ref = F.interpolate(
        x, size=(7, 16), mode='bicubic', antialias=True).clamp(0, 255)
    got = batched[3] * STD + MEAN
    assert torch.allclose(got[:, 4:11], ref[0], atol=1e-3)
    assert got[:, :4].abs().max() < 1e-3 and got[:, 11:].abs().max() < 1e-3


def test_pixel_boxes_round_like_pil_and_stay_inside():
    boxes = [
        torch.tensor([[2.5, 3.5, 7.5, 8.5], [-3, -1, 50, 60],
                      [9.6, 4.2, 9.7, 4.3]])
    ]
    assert CLIPSelfDataPreprocessor.pixel_boxes(boxes, [(20, 10)]) == [
        (0, 2, 4, 8, 8),  # half to even, as Python's round and PIL
        (0, 0, 0, 10, 20),  # clipped to the 10 x 20 image
        (0, 9, 4, 10, 5),  # at least one pixel
    ]
    with pytest.raises(ValueError, match=r'\(2, 3\) for image 0'):
        CLIPSelfDataPreprocessor.pixel_boxes([torch.zeros(2, 3)], [(4, 4)])


def test_resized_size_follows_open_clip():
    pre = CLIPSelfDataPreprocessor(crop_size=224)
    resize = ResizeKeepRatio(224, longest=1)
    for h, w in [(50, 75), (427, 640), (1, 300), (213, 451), (224, 224)]:
        img = Image.new('RGB', (w, h))
        assert pre.resized_size(h, w) == tuple(
            resize.get_params(img, (224, 224), 1.)), (h, w)


def test_crop_modes_are_checked():
    with pytest.raises(ValueError, match="crop_mode must be one of"):
        CLIPSelfDataPreprocessor(crop_mode='pil')
    pre = CLIPSelfDataPreprocessor(crop_size=8)
    with pytest.raises(ValueError, match='2 images but 1 sets'):
        pre.teacher_crops([torch.zeros(3, 4, 4)] * 2, [torch.zeros(1, 4)])
