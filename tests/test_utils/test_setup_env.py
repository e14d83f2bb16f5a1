# Copyright (c) mmclipself contributors. All rights reserved.
import datetime

import pytest
from mmengine import DefaultScope
from mmengine.config import Config
from mmengine.registry import init_default_scope

from mmclipself.registry import MODELS
from mmclipself.utils import register_all_modules


def test_one_config_builds_modules_of_three_scopes():
    register_all_modules()
    assert DefaultScope.get_current_instance().scope_name == 'mmclipself'
    cfg = Config(
        dict(
            loss=dict(type='CosineSimilarityLoss', loss_weight=2.),
            neck=dict(
                type='mmdet.FPN',
                in_channels=[4, 8],
                out_channels=4,
                num_outs=2),
            head=dict(
                _scope_='mmseg',  # sub-modules (its loss) resolve in mmseg too
                type='FCNHead',
                in_channels=4,
                channels=4,
                num_classes=3,
                num_convs=1)))
    loss = MODELS.build(cfg.loss)
    neck = MODELS.build(cfg.neck)
    head = MODELS.build(cfg.head)
    assert type(loss).__module__.startswith('mmclipself.')
    assert loss.loss_weight == 2.
    assert type(neck).__module__.startswith('mmdet.')
    assert type(head).__module__.startswith('mmseg.')


def test_unknown_type_fails_with_the_type_name():
    register_all_modules()
    with pytest.raises(KeyError, match='NoSuchModuleXyz'):
        MODELS.build(dict(type='NoSuchModuleXyz'))


def test_switching_from_another_default_scope_warns():
    init_default_scope('mmdet')
    # a fresh instance name, as MMEngine's DefaultScope needs unique names
    DefaultScope.get_instance(
        f'mmdet-test-{datetime.datetime.now()}', scope_name='mmdet')
    with pytest.warns(UserWarning, match='switches it to "mmclipself"'):
        register_all_modules()
    assert DefaultScope.get_current_instance().scope_name == 'mmclipself'


def test_init_default_scope_false_keeps_the_scope():
    DefaultScope.get_instance(
        f'mmdet-keep-{datetime.datetime.now()}', scope_name='mmdet')
    register_all_modules(init_default_scope=False)
    assert DefaultScope.get_current_instance().scope_name == 'mmdet'
