# Copyright (c) mmclipself contributors. All rights reserved.
import numpy as np
import torch
from mmdet.structures import DetDataSample
from mmengine.structures import PixelData

from mmclipself.models import OVMaskFormerFusionHead, fuse_void_clip_logits


def _head(**test_cfg):
    return OVMaskFormerFusionHead(
        num_things_classes=2, num_stuff_classes=1, test_cfg=test_cfg)


def _softmax(x):
    e = np.exp(x - x.max(-1, keepdims=True))
    return e / e.sum(-1, keepdims=True)


def test_semantic_postprocess_is_hand_computation():
    cls = torch.tensor([[2., 0., -1., 0.5], [-1., 1., 3., 0.]])
    masks = torch.tensor([[[4., -4.], [0., 2.]], [[-3., 3.], [1., -2.]]])
    out = _head().semantic_postprocess(cls, masks)
    assert isinstance(out, PixelData)
    p = _softmax(cls.numpy())[:, :3]  # void dropped
    s = 1 / (1 + np.exp(-masks.numpy()))
    expected = np.zeros((2, 2), dtype=np.int64)
    for y in range(2):
        for x in range(2):
            score = [
                sum(p[q, c] * s[q, y, x] for q in range(2)) for c in range(3)
            ]
            expected[y, x] = int(np.argmax(score))
    assert out.sem_seg.shape == (1, 2, 2)
    np.testing.assert_array_equal(out.sem_seg[0].numpy(), expected)
    assert expected.tolist() == [[0, 2], [2, 0]]  # the toy is not trivial


def test_softmax_of_fused_log_probs_is_the_fused_distribution():
    in_logits = torch.tensor([[1.0, 0.2, -0.3, 0.4], [0.1, 1.5, 0.3, -1.]])
    clip_logits = torch.tensor([[0.5, 2.0, 0.1], [1.0, -0.5, 0.3]])
    seen = torch.tensor([True, False, True])
    probs = fuse_void_clip_logits(in_logits, clip_logits, seen)
    log_probs = fuse_void_clip_logits(in_logits, clip_logits, seen, log=True)
    masks = torch.full((2, 4, 4), 3.0)  # mask score sigmoid(3)
    head = _head(max_per_image=6)
    head.set_num_classes(3, 0)  # every class a thing: all 6 scores kept
    ins = head.instance_postprocess(log_probs, masks)
    got = sorted((ins.scores / torch.sigmoid(torch.tensor(3.))).tolist())
    np.testing.assert_allclose(
        got, sorted(probs[:, :3].flatten().tolist()), rtol=1e-5)


def test_predict_crops_rescales_and_switches_outputs():
    torch.manual_seed(0)
    cls = torch.randn(1, 3, 4)
    masks = torch.randn(1, 3, 16, 16) * 4
    sample = DetDataSample(
        metainfo=dict(
            img_shape=(12, 16), ori_shape=(24, 32), batch_input_shape=(16,
                                                                       16)))
    head = _head(
        panoptic_on=True,
        instance_on=True,
        semantic_on=True,
        max_per_image=5,
        object_mask_thr=0.)
    (res, ) = head.predict(cls, masks, [sample], rescale=True)
    assert set(res) == {'pan_results', 'ins_results', 'sem_results'}
    assert res['sem_results'].sem_seg.shape == (1, 24, 32)
    assert res['pan_results'].sem_seg.shape == (1, 24, 32)
    assert res['ins_results'].masks.shape[-2:] == (24, 32)
    expected = head.semantic_postprocess(
        cls[0],
        torch.nn.functional.interpolate(
            masks[:, :, :12], (24, 32), mode='bilinear',
            align_corners=False)[0])
    assert torch.equal(res['sem_results'].sem_seg, expected.sem_seg)
    head.test_cfg = dict(panoptic_on=False, semantic_on=True)
    (res, ) = head.predict(cls, masks, [sample], rescale=False)
    assert set(res) == {'sem_results'}
    assert res['sem_results'].sem_seg.shape == (1, 12, 16)
