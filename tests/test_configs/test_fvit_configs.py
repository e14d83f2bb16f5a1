# Copyright (c) mmclipself contributors. All rights reserved.
"""Every F-ViT config loads, stays shallow and builds.

Each detector is built at full size on the meta device (shapes only: no
memory, no initialisation), so the parameter counts of the real towers are
checked against the published architectures and 18 configs build in
seconds. The box head, whose class weights are data, is built on the CPU.
"""
import glob
import os.path as osp

import pytest
import torch
from mmengine.config import Config
from mmengine.registry import DefaultScope

from mmclipself.registry import METRICS, MODELS, TRANSFORMS
from mmclipself.testing.configs import config_depth as _depth
from mmclipself.testing.configs import published_tower_mparams
from mmclipself.testing.fvit import write_lvis_base_json, write_vocabulary
from mmclipself.vocab import get_class_names

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


def _real_vocabulary(cfg, tmp_path):
    """Point the config at a vocabulary file with the real class list."""
    head = cfg.model.roi_head.bbox_head
    vocab = head.cls_predictor_cfg.embeddings
    key = osp.basename(vocab)[:-3].split('_')[-1]
    names = get_class_names(VOCABULARIES[key])
    head.cls_predictor_cfg.embeddings = write_vocabulary(
        tmp_path / 'vocab.pt', names, dim=head.fc_out_channels)
    base = head.get('base_classes')
    if base is not None and base.endswith('.json'):
        head.base_classes = write_lvis_base_json(
            tmp_path / 'base.json', names, rare=set(names[::3]))
    return names


@pytest.mark.parametrize('path', CONFIGS, ids=osp.basename)
def test_config_builds(path, tmp_path):
    assert _depth(path) <= 3
    cfg = Config.fromfile(path)
    assert cfg.default_scope == 'mmdet'
    assert cfg.model._scope_ == 'mmdet'
    name = osp.basename(path)
    width = 768 if 'vitl14' in name else 512
    names = _real_vocabulary(cfg, tmp_path)
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
    # data and metrics build in the config's scope, as the Runner's
    with DefaultScope.overwrite_default_scope(cfg.default_scope):
        for t in cfg.train_dataloader.dataset.pipeline + pipeline:
            TRANSFORMS.build(t)
        # (built by the Runner; here only found: it reads the ann_file)
        with METRICS.switch_scope_and_registry(None) as metrics:
            assert metrics.get(cfg.test_evaluator.type)

    with torch.device('meta'):  # shapes only: no memory, no init cost
        model = MODELS.build(cfg.model)
    clip = model.backbone.clip
    mparams = sum(p.numel() for p in clip.parameters()) / 1e6
    assert round(mparams,
                 2) == published_tower_mparams(cfg.model.backbone.clip)
    assert clip.output_dim == width
    assert not any(p.requires_grad for p in clip.parameters())
    assert model.backbone.out_channels == tuple(cfg.model.neck.in_channels)
    head = model.roi_head.bbox_head
    assert head.num_classes == len(names)
    assert head.fc_cls.in_features == width
    if 'ov-lvis' in name:  # release: SyncBN in the OV-LVIS RPN convs
        assert type(model.rpn_head).__name__ == 'NormedRPNHead'
        assert model.rpn_head.norm_cfg['type'] == 'SyncBN'
    if 'ov-lvis' in name and 'transfer' not in name:
        assert model.roi_head.with_mask

    # the class weights are data: the box head alone, on the CPU
    head = MODELS.build(dict(cfg.model.roi_head.bbox_head, _scope_='mmdet'))
    if 'transfer' in name:
        assert head.base_mask.all()
        assert head.fc_cls.test_temperature == 50.0
        assert model.roi_head.clip_fusion['temperature'] == 120.0
    elif 'ov-coco' in name:
        assert int(head.base_mask[:-1].sum()) == 48
        assert head.class_weight[-1] == pytest.approx(0.6)
    else:
        assert int(head.base_mask[:-1].sum()) == len(names) - len(names[::3])
        assert head.class_weight[-1] == pytest.approx(0.9)


def test_rpn_config_builds():
    path = osp.join(REPO, 'configs', 'fvit', 'rpn_eva-vitb16_ov-coco-base.py')
    assert _depth(path) <= 3
    cfg = Config.fromfile(path)
    fvit = Config.fromfile(
        osp.join(REPO, 'configs', 'fvit', 'fvit_eva-vitb16_ov-coco.py'))
    assert (cfg.default_scope, cfg.model._scope_) == ('mmdet', 'mmdet')
    # F-ViT's backbone, neck and RPN head, without the RoI head
    for key in ('data_preprocessor', 'backbone', 'neck', 'rpn_head'):
        assert cfg.model[key] == fvit.model[key], key
    assert 'roi_head' not in cfg.model
    with torch.device('meta'):
        model = MODELS.build(cfg.model)
    assert type(model).__name__ == 'RPN'
    n = sum(p.numel() for p in model.backbone.clip.parameters())
    assert round(n / 1e6, 2) == 86.26
