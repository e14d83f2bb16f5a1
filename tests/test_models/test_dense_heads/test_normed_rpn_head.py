# Copyright (c) mmclipself contributors. All rights reserved.
import torch
import torch.nn as nn

from mmclipself.models import NormedRPNHead
from mmclipself.registry import MODELS

RPN = dict(
    _scope_='mmdet',
    type='mmclipself.NormedRPNHead',
    in_channels=8,
    feat_channels=16,
    num_convs=2,
    anchor_generator=dict(
        type='AnchorGenerator',
        scales=[8],
        ratios=[0.5, 1.0, 2.0],
        strides=[4, 8]),
    bbox_coder=dict(type='DeltaXYWHBBoxCoder'),
    loss_cls=dict(type='CrossEntropyLoss', use_sigmoid=True),
    loss_bbox=dict(type='L1Loss'))


def test_shared_convs_are_normalised():
    head = MODELS.build(dict(RPN, norm_cfg=dict(type='BN')))
    assert isinstance(head, NormedRPNHead)
    convs = list(head.rpn_conv)
    assert len(convs) == 2
    assert all(isinstance(c.bn, nn.BatchNorm2d) for c in convs)
    assert convs[0].conv.in_channels == 8 and convs[1].conv.in_channels == 16
    assert convs[0].conv.bias is None  # the norm carries the bias
    cls, reg = head(tuple(torch.randn(2, 8, s, s) for s in (8, 4)))
    assert cls[0].shape == (2, 3, 8, 8) and reg[1].shape == (2, 12, 4, 4)


def test_without_norm_it_is_mmdets_rpn_head():
    plain = MODELS.build(dict(RPN, type='RPNHead'))
    ours = MODELS.build(RPN)
    assert [type(m)
            for m in ours.rpn_conv] == [type(m) for m in plain.rpn_conv]
    assert set(ours.state_dict()) == set(plain.state_dict())
