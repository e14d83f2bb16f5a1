# Copyright (c) mmclipself contributors. All rights reserved.
import copy

import pytest
import torch
import torch.nn.functional as F
from mmdet.structures import DetDataSample
from mmengine.structures import InstanceData
from torchvision.ops import roi_align

from mmclipself.registry import MODELS
from mmclipself.testing.fvit import (tiny_fvit_config, write_tower,
                                     write_vocabulary)

COCO_CFG = 'configs/fvit/fvit_eva-vitb16_ov-coco.py'
NAMES = ['person', 'cat', 'cup', 'spoon']


def _build(tmp_path,
           names=NAMES,
           base=('person', 'spoon'),
           dim=16,
           **overrides):
    tower = tmp_path / 'tower.pth'
    if not tower.exists():
        write_tower(tower)
    vocab = write_vocabulary(
        tmp_path / f'vocab{len(names)}_{dim}.pt', names, dim=dim)
    cfg = tiny_fvit_config(COCO_CFG, str(tower), vocab, base_classes=base)
    cfg.merge_from_dict(dict(model=overrides))
    model = MODELS.build(cfg.model)
    model.init_weights()
    return model


def _batch(n=2):
    samples = []
    for _ in range(n):
        s = DetDataSample(
            metainfo=dict(
                img_shape=(128, 96),
                ori_shape=(128, 96),
                scale_factor=(1., 1.)))
        s.gt_instances = InstanceData(
            bboxes=torch.tensor([[10., 10., 60., 80.], [50., 40., 90., 120.]]),
            labels=torch.tensor([0, 3]))
        samples.append(s)
    g = torch.Generator().manual_seed(0)
    images = [
        torch.randint(0, 255, (3, 128, 96), dtype=torch.uint8, generator=g)
        for _ in range(n)
    ]
    return dict(inputs=images, data_samples=samples)


def test_training_never_touches_the_frozen_tower(tmp_path):
    model = _build(tmp_path)
    tower = {k: v.clone() for k, v in model.backbone.clip.state_dict().items()}
    model.train()
    assert not model.backbone.clip.training  # frozen: eval mode
    trainable = [p for p in model.parameters() if p.requires_grad]
    opt = torch.optim.AdamW(trainable, lr=1e-2)
    for _ in range(2):
        data = model.data_preprocessor(copy.deepcopy(_batch()), True)
        losses = model(**data, mode='loss')
        loss, _ = model.parse_losses(losses)
        opt.zero_grad()
        loss.backward()
        opt.step()
    assert set(losses) >= {'loss_rpn_cls', 'loss_cls', 'loss_bbox', 'acc'}
    assert all(p.grad is None for p in model.backbone.clip.parameters())
    assert not any(p.requires_grad for p in model.backbone.clip.parameters())
    for k, v in model.backbone.clip.state_dict().items():
        assert torch.equal(v, tower[k]), k
    # the pyramid, neck, heads and the temperature do learn
    assert model.backbone.up4[0].weight.grad is not None
    assert model.roi_head.bbox_head.fc_cls.temperature.item() != 50.0


def test_checkpoint_has_no_tower_and_vocabulary_swaps(tmp_path):
    model = _build(tmp_path)
    state = model.state_dict()
    # only the tower's record (source, fingerprint), no tower weights
    assert [k for k in state
            if k.startswith('backbone.clip.')] == ['backbone.clip.__frozen__']
    assert not any('text_embeddings' in k for k in state)
    full = _build(tmp_path, backbone=dict(save_clip_weights=True))
    assert any(k.startswith('backbone.clip.') for k in full.state_dict())
    # another vocabulary, same checkpoint: loads strictly, new classes
    swapped = _build(tmp_path, names=['dog', 'umbrella', 'person'], base=None)
    swapped.load_state_dict(state, strict=True)
    assert swapped.roi_head.bbox_head.class_names == [
        'dog', 'umbrella', 'person'
    ]
    swapped.eval()
    with torch.no_grad():
        data = swapped.data_preprocessor(_batch(1), False)
        pred = swapped(**data, mode='predict')[0].pred_instances
    assert len(pred) > 0 and int(pred.labels.max()) < 3
    for k, v in state.items():
        assert torch.equal(swapped.state_dict()[k], v), k


def _hand_fused(model, x, dense, rois, input_w):
    """p_det^(1-a) p_clip^a (base) / ^(1-b) ^b (novel), by hand."""
    head = model.roi_head.bbox_head
    feats = model.roi_head.bbox_roi_extractor(x[:4], rois)
    p_det = head(feats)[0].softmax(-1)
    text = F.normalize(
        torch.cat(
            [head.fc_cls.text_embeddings, head.fc_cls.bg_embedding[None]]),
        dim=-1)
    # the release's convention: aligned, stride = patch = input / map
    pooled = roi_align(
        dense, rois, (1, 1), dense.size(-1) / input_w, aligned=True)
    p_clip = (75. *
              F.normalize(pooled.flatten(1), dim=-1) @ text.t()).softmax(-1)
    # person and spoon are base (alpha 0.1), cat and cup novel (beta 0.8),
    # background base
    w = torch.tensor([0.1, 0.8, 0.8, 0.1, 0.1])
    return p_det**(1 - w) * p_clip**w


def test_fused_scores_equal_a_hand_computation(tmp_path):
    model = _build(tmp_path).eval()
    assert model.roi_head.clip_fusion == dict(
        temperature=75.0, alpha=0.1, beta=0.8)
    data = model.data_preprocessor(_batch(1), False)
    proposals = torch.tensor([[0., 0., 64., 64.], [20., 30., 90., 120.],
                              [40., 8., 96., 56.]])
    with torch.no_grad():
        feats, dense = model.backbone.forward_with_dense(data['inputs'])
        x = model.neck(feats)
        rois = torch.cat([proposals.new_zeros(3, 1), proposals], dim=1)
        expected = _hand_fused(model, x, dense, rois, 128)
        # the RoI head without NMS: every proposal, every class
        res = model.roi_head.predict_bbox(
            x, [s.metainfo for s in data['data_samples']],
            [InstanceData(bboxes=proposals)],
            rcnn_test_cfg=None,
            clip_dense=dense)[0]
        torch.testing.assert_close(res.scores, expected)
        # the whole detector on given proposals, NMS that keeps everything
        model.roi_head.test_cfg.update(
            score_thr=0.,
            nms=dict(type='nms', iou_threshold=1.0),
            max_per_img=100)
        samples = data['data_samples']
        samples[0].proposals = InstanceData(bboxes=proposals)
        pred = model.predict(data['inputs'], samples, rescale=False)
    scores = pred[0].pred_instances.scores
    assert len(scores) == 3 * 4  # 3 boxes x 4 classes
    torch.testing.assert_close(scores.sort().values,
                               expected[:, :4].flatten().sort().values)


def test_without_fusion_scores_are_the_detector_softmax(tmp_path):
    model = _build(tmp_path, roi_head=dict(clip_fusion=None)).eval()
    data = model.data_preprocessor(_batch(1), False)
    proposals = torch.tensor([[0., 0., 64., 64.], [20., 30., 90., 120.]])
    with torch.no_grad():
        x = model.extract_feat(data['inputs'])
        res = model.roi_head.predict_bbox(
            x, [s.metainfo for s in data['data_samples']],
            [InstanceData(bboxes=proposals)],
            rcnn_test_cfg=None)[0]
        rois = torch.cat([proposals.new_zeros(2, 1), proposals], dim=1)
        feats = model.roi_head.bbox_roi_extractor(x[:4], rois)
        p_det = model.roi_head.bbox_head(feats)[0].softmax(-1)
    torch.testing.assert_close(res.scores, p_det)


def test_fusion_needs_a_dense_clip_backbone(tmp_path):
    with pytest.raises(TypeError, match='forward_with_dense'):
        _build(
            tmp_path,
            backbone=dict(
                _delete_=True,
                type='ResNet',
                depth=18,
                out_indices=(0, 1, 2, 3)),
            neck=dict(in_channels=[64, 128, 256, 512]))
    with pytest.raises(ValueError, match='embeds into 16-d'):
        _build(
            tmp_path,
            names=['cat'],
            base=None,
            dim=8,
            roi_head=dict(bbox_head=dict(fc_out_channels=8)))
    with pytest.raises(ValueError, match='unknown clip_fusion keys'):
        _build(tmp_path, roi_head=dict(clip_fusion=dict(gamma=1.)))


def test_l14_geometry_with_float_strides_and_the_mask_head(tmp_path):
    """Patch 14: levels at strides 3.5/7/14/28 (paper A.3) train and test."""
    import numpy as np
    from mmdet.structures.mask import BitmapMasks
    from mmengine.model.utils import revert_sync_batchnorm

    from mmclipself.models import EVA02CLIPViT
    from mmclipself.testing.fvit import TINY_FVIT_EVA
    arch = dict(TINY_FVIT_EVA, patch_size=14, img_size=56)
    torch.save(
        EVA02CLIPViT(arch=arch).tower().state_dict(), tmp_path / 't14.pth')
    cfg = tiny_fvit_config(
        'configs/fvit/fvit_eva-vitl14_ov-lvis.py',
        str(tmp_path / 't14.pth'),
        write_vocabulary(tmp_path / 'v.pt', NAMES),
        base_classes=['person', 'spoon'])
    m = cfg.model
    m.backbone.clip.arch = arch
    m.data_preprocessor.pad_size_divisor = 112
    # the shipped L/14 strides, unchanged by tiny_fvit_config's patch-8 ones
    m.rpn_head.anchor_generator.strides = [3.5, 7, 14, 28, 56]
    for extractor in ('bbox_roi_extractor', 'mask_roi_extractor'):
        m.roi_head[extractor].featmap_strides = [3.5, 7, 14, 28]
    model = revert_sync_batchnorm(MODELS.build(m))
    model.init_weights()
    batch = _batch()
    batch['inputs'] = [i[:, :112, :84] for i in batch['inputs']]
    for s in batch['data_samples']:
        s.set_metainfo(dict(img_shape=(112, 84), ori_shape=(112, 84)))
        s.gt_instances.masks = BitmapMasks(
            np.ones((2, 112, 84), np.uint8), 112, 84)
    model.train()
    data = model.data_preprocessor(copy.deepcopy(batch), True)
    levels = model.extract_feat(data['inputs'])
    assert [f.shape[-1] for f in levels] == [32, 16, 8, 4, 2]  # 112 / 3.5..
    losses = model(**data, mode='loss')
    assert {'loss_mask', 'loss_cls', 'loss_rpn_cls'} <= set(losses)
    model.eval()
    with torch.no_grad():
        data = model.data_preprocessor(copy.deepcopy(batch), False)
        pred = model(**data, mode='predict')[0].pred_instances
    assert pred.masks.shape[1:] == (112, 84)
    assert len(pred) > 0
