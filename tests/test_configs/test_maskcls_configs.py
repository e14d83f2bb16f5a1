# Copyright (c) mmclipself contributors. All rights reserved.
"""The mask-classification configs: the matrix, the recipe, full-size builds.

Models are built at full size on the meta device (shapes only), in
MMDetection's scope, with vocabulary files of the real class lists written
here (the shipped paths under data/text_embeddings/ are made by
tools/generate_text_embeddings.py). References are independent of our
code: MMDetection's own Mask2Former R50 panoptic config, open_clip's
towers, MMDetection's dataset class lists.
"""
import glob
import os.path as osp

import mmdet
import pytest
import torch
from mmdet.registry import DATASETS
from mmengine.config import Config
from mmengine.optim import build_optim_wrapper
from mmengine.registry import init_default_scope

from mmclipself.registry import MODELS
from mmclipself.testing.configs import config_depth
from mmclipself.testing.fvit import write_vocabulary
from mmclipself.testing.runs import REPO
from mmclipself.vocab import get_class_names

CONFIG_DIR = osp.join(REPO, 'configs', 'maskcls')
SCHEDULES = osp.join(REPO, 'configs', '_base_', 'schedules')
CONFIGS = sorted(glob.glob(osp.join(CONFIG_DIR, '*.py')))
TRAIN = [p for p in CONFIGS if '_8xb2-lsj-' in p]
ADE = [p for p in CONFIGS if '_ade20k-' in p]
FAMILIES = ('r50-openai-vitl14-336', 'r50-openai-vitl14-clipself',
            'pyramid-eva-vitb16', 'pyramid-eva-vitb16-clipself',
            'pyramid-openai-vitl14-336', 'r50-eva-vitl14-336',
            'r50-eva-vitl14-336-clipself')
#: the two towers of CLIPSelf Table 5, in both modes on every test set
TABLE5 = FAMILIES[:2]
#: tower arch -> (open_clip model, CLIP embedding width)
OPEN_CLIP = {
    'vit-l14-336': ('ViT-L-14-336-quickgelu', 768),
    'vit-l14': ('ViT-L-14-quickgelu', 768),
    'eva02-b16': ('EVA02-B-16', 512),
    'eva02-l14-336': ('EVA02-L-14-336', 768),
}
MMDET_M2F = osp.join(
    osp.dirname(mmdet.__file__), '.mim', 'configs', 'mask2former',
    'mask2former_r50_8xb2-lsj-50e_coco-panoptic.py')


def _name(path):
    return osp.basename(path)[:-3]


def _vocab_key(path):
    """'ade20k_panoptic' of 'data/text_embeddings/eva02-b16_ade20k_panoptic.pt'
    """
    return osp.basename(path)[:-3].split('_', 1)[1]


def _tower(cfg):
    m = cfg.model
    return m.clip_tower if m.get('clip_tower') else m.backbone.clip


def _real_vocabularies(cfg, tmp_path):
    """Point the head at vocabulary files of the real class lists."""
    head = cfg.model.panoptic_head
    dim = OPEN_CLIP[_tower(cfg).arch][1]
    for key in ('vocabulary', 'test_vocabulary'):
        if head.get(key):
            names = get_class_names(_vocab_key(head[key]))
            head[key] = write_vocabulary(
                tmp_path / f'{key}.pt', names, dim=dim, background=False)


def _build(cfg, tmp_path):
    _real_vocabularies(cfg, tmp_path)
    init_default_scope('mmdet')
    with torch.device('meta'):
        return MODELS.build(cfg.model)


def _trainable(model, prefix=''):
    return sum(p.numel() for n, p in model.named_parameters()
               if p.requires_grad and n.startswith(prefix))


def test_the_matrix_of_configs():
    names = {_name(p) for p in CONFIGS}
    for fam in FAMILIES:
        # the R50 model's CLIP tower is swappable (test time only): the
        # CLIPSelf EVA02 L/14 family tests the original family's training
        assert (f'maskcls_{fam}_8xb2-lsj-368k_coco-panoptic'
                in names) == (fam != 'r50-eva-vitl14-336-clipself')
        for s in ('panoptic', 'semantic', 'instance'):
            assert f'maskcls_{fam}_ade20k-{s}' in names
            assert (f'maskcls_{fam}_ade20k-{s}_clip-only' in names) == (
                fam in TABLE5)
        assert (f'maskcls_{fam}_coco-panoptic_clip-only' in names) == (
            fam in TABLE5)
    for fam in ('r50-openai-vitl14-336', 'pyramid-eva-vitb16'):
        assert f'maskcls_{fam}_8xb2-lsj-92k_coco-panoptic' in names
    assert len(TRAIN) == 8 and len(ADE) == 27 and len(CONFIGS) == 37
    for path in CONFIGS:
        assert config_depth(path) <= 3, path


@pytest.mark.parametrize('path', CONFIGS, ids=_name)
def test_config_runs_in_mmdets_scope_with_its_modes(path):
    cfg = Config.fromfile(path)
    assert cfg.default_scope == 'mmdet' and cfg.model._scope_ == 'mmdet'
    mode = 'clip_only' if path.endswith('_clip-only.py') else 'fused'
    assert cfg.model.clip_mode == mode
    tower = _tower(cfg)
    clipself = '-clipself' in _name(path)
    assert ('clipself' in tower.pretrained) == clipself
    if clipself:  # an export of configs/clipself (CLIPSELF_CHECKPOINTS)
        assert tower.pretrained.endswith('_coco_clipself_patches.pt')
    # every vocabulary file is of the tower's CLIP
    emb = {
        'vit-l14-336': 'openai-l14-336',
        'vit-l14': 'openai-l14',
        'eva02-b16': 'eva02-b16',
        'eva02-l14-336': 'eva02-l14-336'
    }[tower.arch]
    head = cfg.model.panoptic_head
    assert head.vocabulary == (f'data/text_embeddings/{emb}_'
                               'coco_panoptic.pt')
    if head.test_vocabulary is not None:
        assert osp.basename(head.test_vocabulary).startswith(emb + '_')


@pytest.mark.parametrize('path', ADE, ids=_name)
def test_test_config_has_its_sets_classes_in_order(path):
    cfg = Config.fromfile(path)
    head, test_cfg = cfg.model.panoptic_head, cfg.model.test_cfg
    dataset = DATASETS.get(cfg.test_dataloader.dataset.type)
    classes = dataset.METAINFO['classes']
    key = _vocab_key(head.test_vocabulary)
    assert get_class_names(key) == tuple(classes)
    outputs = (test_cfg.panoptic_on, test_cfg.semantic_on,
               test_cfg.instance_on)
    metric = cfg.test_evaluator.type
    if path.endswith(('_ade20k-panoptic.py', '_ade20k-panoptic_clip-only.py')):
        assert key == 'ade20k_panoptic' and len(classes) == 150
        # things first: the first test_num_things_classes are the things
        things = dataset.METAINFO['thing_classes']
        assert head.test_num_things_classes == len(things) == 100
        assert tuple(classes[:100]) == tuple(things)
        assert outputs == (True, False, False)
        assert metric == 'CocoPanopticMetric'
    elif '_ade20k-semantic' in path:
        assert key == 'ade20k' and classes[:3] == ('wall', 'building', 'sky')
        assert outputs == (False, True, False)
        assert metric == 'SemSegMetric'
    else:
        assert key == 'ade20k_instance' and len(classes) == 100
        assert head.test_num_things_classes == 100
        assert outputs == (False, False, True)
        assert metric == 'CocoMetric' and cfg.test_evaluator.metric == ['segm']
    # no training parts: MMEngine's Runner needs all or none of them
    assert cfg.get('train_cfg') is None and cfg.get('optim_wrapper') is None


def test_schedules_are_mmdetections_mask2former_recipe():
    full = Config.fromfile(osp.join(SCHEDULES, 'maskcls_lsj-368k.py'))
    ref = Config.fromfile(MMDET_M2F)
    assert full.train_cfg == ref.train_cfg
    assert full.param_scheduler == ref.param_scheduler
    assert full.optim_wrapper.optimizer == ref.optim_wrapper.optimizer
    assert full.optim_wrapper.clip_grad == dict(max_norm=0.01, norm_type=2)
    keys = dict(full.optim_wrapper.paramwise_cfg.custom_keys)
    assert keys.pop('void_embedding') == dict(lr_mult=1.0, decay_mult=0.0)
    assert keys == ref.optim_wrapper.paramwise_cfg.custom_keys
    assert full.default_hooks.checkpoint == ref.default_hooks.checkpoint
    assert full.auto_scale_lr == ref.auto_scale_lr
    assert full.default_scope == 'mmdet'
    # the short schedule: a quarter, same optimiser and hooks
    short = Config.fromfile(osp.join(SCHEDULES, 'maskcls_lsj-92k.py'))
    assert short.optim_wrapper == full.optim_wrapper
    assert short.default_hooks == full.default_hooks
    assert short.log_processor == full.log_processor
    assert short.train_cfg.max_iters == int(368750 / 4 + 0.5)
    milestones = short.param_scheduler.milestones
    assert milestones == [int(m / 4 + 0.5) for m in (327778, 355092)]
    assert short.train_cfg.dynamic_intervals == [(90001, 92188)]


@pytest.mark.parametrize('path', TRAIN, ids=_name)
def test_training_config_builds_at_full_size(path, tmp_path):
    cfg = Config.fromfile(path)
    assert cfg.train_dataloader.batch_size == 2  # x 8 GPUs = 16
    assert cfg.model.data_preprocessor.batch_augments[0].size[0] >= 1024
    assert [e.type for e in cfg.test_evaluator
            ] == ['CocoPanopticMetric', 'CocoMetric']
    model = _build(cfg, tmp_path)
    tower = model.dense_tower
    # the CLIP tower is frozen and is the published architecture
    assert not any(p.requires_grad for p in tower.parameters())
    import open_clip
    model_name, width = OPEN_CLIP[tower.arch]
    ref = open_clip.create_model(model_name, device='meta').visual
    assert sum(p.numel()
               for p in tower.parameters()) == sum(p.numel()
                                                   for p in ref.parameters())
    assert tower.output_dim == width
    head = model.panoptic_head
    assert head.num_classes == 133 and head.num_things_classes == 80
    assert head.num_queries == 100
    # the head's own trainable parameters (open-vocabulary class head)
    d = width
    assert _trainable(head.cls_embed) == 256 * d + d + d + 1
    if '_r50-' in path:
        # MMDetection's Mask2Former R50 panoptic with the Linear(256, 134)
        # class head replaced by ours; the CLIP tower adds nothing
        init_default_scope('mmdet')
        with torch.device('meta'):
            mmdet_model = MODELS.build(Config.fromfile(MMDET_M2F).model)
        expected = _trainable(mmdet_model) - (256 * 134 + 134) + \
            _trainable(head.cls_embed)
        assert _trainable(model) == expected
        assert _trainable(model, 'clip_tower.') == 0
    else:
        assert _trainable(model, 'backbone.clip.') == 0
        # only the pyramid's new layers train in the backbone, at the base lr
        assert _trainable(model, 'backbone.') > 0
        assert cfg.optim_wrapper.paramwise_cfg.custom_keys.backbone == dict(
            lr_mult=1.0, decay_mult=1.0)


def test_r50_optimiser_groups():
    path = osp.join(
        CONFIG_DIR, 'maskcls_r50-openai-vitl14-336_8xb2-lsj-368k_'
        'coco-panoptic.py')
    cfg = Config.fromfile(path)
    import tempfile
    from pathlib import Path
    with tempfile.TemporaryDirectory() as tmp:
        model = _build(cfg, Path(tmp))
    wrapper = build_optim_wrapper(model, cfg.optim_wrapper)
    group_of = {}
    for group in wrapper.optimizer.param_groups:
        for p in group['params']:
            group_of[id(p)] = (group['lr'], group['weight_decay'])
    named = dict(model.named_parameters())
    expected = {
        'backbone.conv1.weight': (1e-5, 0.05),
        'panoptic_head.query_embed.weight': (1e-4, 0.0),
        'panoptic_head.query_feat.weight': (1e-4, 0.0),
        'panoptic_head.level_embed.weight': (1e-4, 0.0),
        'panoptic_head.cls_embed.void_embedding': (1e-4, 0.0),
        'panoptic_head.cls_embed.proj.weight': (1e-4, 0.05),
        'panoptic_head.cls_embed.logit_scale': (1e-4, 0.05),
    }
    for name, want in expected.items():
        assert group_of[id(named[name])] == pytest.approx(want), name
    norm = next(
        n for n in named if n.startswith('panoptic_head.') and '.norms.' in n)
    assert group_of[id(named[norm])][1] == 0.0


@pytest.mark.parametrize(
    'name', ['r50-openai-vitl14-clipself', 'pyramid-openai-vitl14-336'])
def test_ade_test_config_builds_at_full_size(name, tmp_path):
    cfg = Config.fromfile(
        osp.join(CONFIG_DIR, f'maskcls_{name}_ade20k-panoptic.py'))
    model = _build(cfg, tmp_path)
    assert model.class_names == get_class_names('ade20k_panoptic')
    assert model.train_class_names == get_class_names('coco_panoptic')
    assert model.num_things_classes == 100 and model.num_classes == 150
    fusion = model.panoptic_fusion_head
    assert (fusion.num_things_classes, fusion.num_stuff_classes) == (100, 50)


def test_downstream_inherits_a_test_config(tmp_path):
    import mmclipself  # noqa: F401  (registers the mmclipself:: package)
    path = tmp_path / 'my_maskcls.py'
    path.write_text(
        "_base_ = 'mmclipself::maskcls/maskcls_r50-openai-vitl14-336_"
        "ade20k-panoptic.py'\n"
        "custom_imports = dict(imports=['mmclipself'])\n"
        "model = dict(clip_mode='clip_only', panoptic_head=dict("
        "test_vocabulary='mine.pt'))\n")
    cfg = Config.fromfile(str(path))
    assert cfg.default_scope == 'mmdet'
    assert cfg.model.type == 'mmclipself.OVMask2Former'
    assert cfg.model.clip_mode == 'clip_only'
    assert cfg.model.panoptic_head.test_vocabulary == 'mine.pt'
    assert cfg.model.panoptic_head.test_num_things_classes == 100
    assert cfg.test_evaluator.type == 'CocoPanopticMetric'
