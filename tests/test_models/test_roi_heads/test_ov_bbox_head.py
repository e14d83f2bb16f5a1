# Copyright (c) mmclipself contributors. All rights reserved.
import json

import pytest
import torch
import torch.nn.functional as F

from mmclipself.models import OVConvFCBBoxHead, fuse_clip_scores
from mmclipself.registry import MODELS
from mmclipself.testing.fvit import write_vocabulary
from mmclipself.vocab import resolve_base_classes

NAMES = ['person', 'cat', 'cup', 'spoon']


def _head(tmp_path, **kwargs):
    # built like the configs do: in MMDetection's scope, ours prefixed
    vocab = write_vocabulary(tmp_path / 'v.pt', NAMES, dim=8)
    return MODELS.build(
        dict(
            _scope_='mmdet',
            type='mmclipself.OVConvFCBBoxHead',
            cls_predictor_cfg=dict(
                type='mmclipself.TextEmbeddingClassifier', embeddings=vocab),
            num_shared_fcs=2,
            in_channels=4,
            roi_feat_size=3,
            fc_out_channels=8,
            reg_class_agnostic=True,
            bbox_coder=dict(type='DeltaXYWHBBoxCoder'),
            loss_cls=dict(type='CrossEntropyLoss', loss_weight=1.0),
            loss_bbox=dict(type='L1Loss', loss_weight=1.0),
            **kwargs))


def test_novel_classes_get_no_gradient_and_background_weight(tmp_path):
    head = _head(
        tmp_path, base_classes=['person', 'cup', 'spoon'], bg_weight=0.6)
    assert isinstance(head, OVConvFCBBoxHead)
    assert head.num_classes == 4  # read from the vocabulary file
    assert head.class_weight.tolist() == pytest.approx([1, 0, 1, 1, 0.6])
    assert head.base_mask.tolist() == [True, False, True, True, True]
    logits = torch.randn(6, 5, requires_grad=True)
    labels = torch.tensor([0, 2, 3, 4, 4, 0])
    losses = head.loss(logits, None, None, labels, torch.ones(6), None, None)
    # by hand: softmax without the novel 'cat' column, background x 0.6,
    # averaged over the 6 samples
    keep = [0, 2, 3, 4]
    remap = torch.tensor([0, -1, 1, 2, 3])[labels]
    nll = F.cross_entropy(logits[:, keep], remap, reduction='none')
    w = torch.tensor([1, 1, 1, 0.6, 0.6, 1])
    torch.testing.assert_close(losses['loss_cls'], (nll * w).sum() / 6)
    losses['loss_cls'].backward()
    assert logits.grad[:, 1].abs().sum() == 0  # novel: no gradient
    assert logits.grad[:, keep].abs().sum() > 0


def test_all_classes_base_by_default_and_vocabulary_sized_head(tmp_path):
    head = _head(tmp_path)
    assert head.class_weight.tolist() == [1, 1, 1, 1, 1]
    assert head.class_names == NAMES
    cls, reg = head(torch.randn(3, 4, 3, 3))
    assert cls.shape == (3, 5) and reg.shape == (3, 4)
    assert not any('text' in k for k in head.state_dict())


def test_base_classes_from_json_key_and_errors(tmp_path):
    path = tmp_path / 'cats.json'
    path.write_text(
        json.dumps(
            dict(categories=[
                dict(name='person', image_count=3),
                dict(name='cat', image_count=0),
                dict(name='cup', image_count=1)
            ])))
    vocab = ['person', 'cat', 'cup', 'dog']
    assert resolve_base_classes(str(path), vocab) == [True, False, True, False]
    assert resolve_base_classes(
        'coco48', ['person', 'cat', 'bicycle']) == [True, False, True]
    # classes missing from a test vocabulary are ignored, none matching
    # is an error
    assert resolve_base_classes(['unicorn', 'cat'],
                                vocab) == [False, True, False, False]
    with pytest.raises(ValueError, match='none of the 2 base classes'):
        resolve_base_classes(['unicorn', 'pegasus'], vocab)
    with pytest.raises(FileNotFoundError, match='nope.json'):
        resolve_base_classes(str(tmp_path / 'nope.json'), vocab)
    with pytest.raises(ValueError, match='neither'):
        resolve_base_classes('not-a-vocabulary', vocab)
    with pytest.raises(ValueError, match='num_cls_fcs'):
        _head(tmp_path, num_cls_fcs=1)


def test_fuse_clip_scores_is_the_geometric_ensemble():
    det = torch.tensor([[0.5, 0.3, 0.2]])
    clip = torch.tensor([[0.1, 0.6, 0.3]])
    base = torch.tensor([True, False, True])
    fused = fuse_clip_scores(det, clip, base, alpha=0.1, beta=0.8)
    expected = torch.tensor(
        [[0.5**0.9 * 0.1**0.1, 0.3**0.2 * 0.6**0.8, 0.2**0.9 * 0.3**0.1]])
    torch.testing.assert_close(fused, expected)
    with pytest.raises(ValueError, match='differ in shape'):
        fuse_clip_scores(det, clip[:, :2], base, 0.1, 0.8)


def test_set_vocabulary_keeps_learned_state_and_background_weight(tmp_path):
    head = _head(tmp_path, base_classes=['person'], bg_weight=0.6)
    with torch.no_grad():
        head.fc_cls.temperature.fill_(33.)
    other = write_vocabulary(tmp_path / 'o.pt', ['dog', 'kite'], dim=8)
    assert head.set_vocabulary(other) == ['dog', 'kite']
    assert head.num_classes == 2 and head.fc_cls.temperature.item() == 33.
    assert head.class_weight.tolist() == pytest.approx([1, 1, 0.6])
    cls, _ = head(torch.randn(3, 4, 3, 3))
    assert cls.shape == (3, 3)
    fc = head.fc_cls
    wide = write_vocabulary(tmp_path / 'w.pt', ['a'], dim=16)
    with pytest.raises(ValueError, match='16-d'):
        head.set_vocabulary(wide)
    assert head.fc_cls is fc and head.num_classes == 2  # unchanged
