# Copyright (c) mmclipself contributors. All rights reserved.
"""Every F-ViT config loads, stays shallow and builds.

Each config is built with its tower narrowed to 32 channels (same family,
depth, patch size and taps) so that 20 configs build in seconds; the four
towers are built at full size once each, on the meta device.
"""
import gc
import glob
import os.path as osp

import pytest
import torch
from mmengine.config import Config

from mmclipself.datasets.class_names import get_class_names
from mmclipself.registry import METRICS, MODELS, TRANSFORMS
from mmclipself.testing.configs import config_depth as _depth
from mmclipself.testing.towers import TINY_EVA, TINY_OPENAI
from mmclipself.testing.fvit import (write_lvis_base_json,
                                                    write_vocabulary)

REPO = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))
CONFIGS = sorted(glob.glob(osp.join(REPO, 'configs', 'fvit', 'fvit_*.py')))
# vocabulary file name suffix -> class names
VOCABULARIES = {
    'coco65': 'coco65',
    'lvis': 'lvis',
    'coco': 'coco',
    'objects365': 'objects365',
    'voc': 'voc'
}


def test_the_documented_configs_exist():
    names = {osp.basename(c)[:-3] for c in CONFIGS}
    for backbone in ('eva-vitb16', 'eva-vitl14'):
        for variant in ('', '-clipself-patches'):
            for bench in ('ov-coco', 'ov-lvis'):
                assert f'fvit_{backbone}{variant}_{bench}' in names
        assert f'fvit_{backbone}-clipself-proposals_ov-coco' in names
    for backbone in ('openai-vitb16', 'openai-vitl14'):
        assert f'fvit_{backbone}_ov-coco' in names
    for target in ('coco', 'objects365', 'voc'):
        assert ('fvit_eva-vitl14-clipself-patches_ov-lvis_transfer-'
                f'{target}') in names


@pytest.mark.parametrize('path', CONFIGS, ids=osp.basename)
def test_config_builds(path, tmp_path):
    assert _depth(path) <= 3
    cfg = Config.fromfile(path)
    assert cfg.default_scope == 'mmclipself'
    assert cfg.model._scope_ == 'mmdet'
    name = osp.basename(path)
    width = 768 if 'vitl14' in name else 512
    # the vocabulary named in the config, written with the real class list
    vocab = cfg.model.roi_head.bbox_head.cls_predictor_cfg.embeddings
    key = osp.basename(vocab)[:-3].split('_')[-1]
    names = get_class_names(VOCABULARIES[key])
    cfg.model.roi_head.bbox_head.cls_predictor_cfg.embeddings = \
        write_vocabulary(tmp_path / 'vocab.pt', names, dim=width)
    base = cfg.model.roi_head.bbox_head.get('base_classes')
    if base is not None and base.endswith('.json'):
        cfg.model.roi_head.bbox_head.base_classes = write_lvis_base_json(
            tmp_path / 'base.json', names, rare=set(names[::3]))
    # release image sizes and taps (reference facts §1, paper A.3)
    size = cfg.model.data_preprocessor.pad_size_divisor
    pipeline = cfg.test_dataloader.dataset.pipeline
    assert pipeline[1].scale == (size, size)
    if 'vitl14' in name:
        assert size == 896
        assert cfg.model.backbone.out_indices == (6, 10, 14, 23)
    else:
        assert size == (1024 if 'ov-lvis' in name else 640)
        assert cfg.model.backbone.out_indices == (3, 5, 7, 11)
    # the datasets build their pipelines in their own `_scope_`
    assert cfg.test_dataloader.dataset._scope_ == 'mmdet'
    for t in cfg.train_dataloader.dataset.pipeline + pipeline:
        TRANSFORMS.build(dict(t, _scope_='mmdet'))
    for metric in [cfg.test_evaluator]:
        scope = metric.get('_scope_')
        assert METRICS.get(f'{scope}.{metric.type}' if scope else metric.type)
    clip = cfg.model.backbone.clip
    patch = 14 if 'vitl14' in name else 16
    depth = 24 if 'vitl14' in name else 12
    if clip.type.endswith('EVA02CLIPViT'):
        arch = dict(
            TINY_EVA,
            img_size=patch * 4,
            patch_size=patch,
            depth=depth,
            embed_dim=32,
            num_classes=width)
    else:
        arch = dict(
            TINY_OPENAI,
            image_size=patch * 4,
            patch_size=patch,
            layers=depth,
            width=32,
            output_dim=width)
    clip.arch = arch
    cfg.model.neck.in_channels = [32] * 4
    model = MODELS.build(cfg.model)
    head = model.roi_head.bbox_head
    assert head.num_classes == len(names)
    assert head.fc_cls.in_features == width
    assert not any(p.requires_grad for p in model.backbone.clip.parameters())
    if 'transfer' in name:
        assert head.base_mask.all()
        assert head.fc_cls.test_temperature == 50.0
        assert model.roi_head.clip_fusion['temperature'] == 120.0
    elif 'ov-coco' in name:
        assert int(head.base_mask[:-1].sum()) == 48
        assert head.class_weight[-1] == pytest.approx(0.6)
    else:
        assert head.class_weight[-1] == pytest.approx(0.9)
        assert model.roi_head.with_mask
    if 'ov-lvis' in name:  # release: SyncBN in the OV-LVIS RPN convs
        assert type(model.rpn_head).__name__ == 'NormedRPNHead'
        assert model.rpn_head.norm_cfg['type'] == 'SyncBN'
    del model
    gc.collect()


@pytest.mark.parametrize('config, params',
                         [('fvit_eva-vitb16_ov-coco.py', 86e6),
                          ('fvit_eva-vitl14_ov-coco.py', 304e6),
                          ('fvit_openai-vitb16_ov-coco.py', 86e6),
                          ('fvit_openai-vitl14_ov-coco.py', 304e6)])
def test_full_size_towers(config, params):
    cfg = Config.fromfile(osp.join(REPO, 'configs', 'fvit', config))
    with torch.device('meta'):  # shapes only: no memory, no init cost
        backbone = MODELS.build(dict(cfg.model.backbone, _scope_='mmdet'))
    n = sum(p.numel() for p in backbone.clip.parameters())
    assert abs(n - params) / params < 0.03, n
    assert backbone.out_channels == tuple(cfg.model.neck.in_channels)
    assert backbone.clip.output_dim == (
        cfg.model.roi_head.bbox_head.fc_out_channels)
