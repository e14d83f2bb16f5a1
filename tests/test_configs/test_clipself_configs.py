# Copyright (c) mmclipself contributors. All rights reserved.
"""Every shipped config loads, stays shallow and builds what it declares."""
import ast
import glob
import os.path as osp

import pytest
from mmengine.config import Config

from mmclipself.registry import EVALUATOR, HOOKS, METRICS, MODELS, TRANSFORMS

REPO = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))
CONFIGS = sorted(glob.glob(osp.join(REPO, 'configs', 'clipself', '*.py')))


def _depth(path):
    """Inheritance depth of a config file (0 for a primitive one)."""
    tree = ast.parse(open(path).read())
    bases = []
    for node in tree.body:
        if isinstance(node, ast.Assign) and any(
                getattr(t, 'id', None) == '_base_' for t in node.targets):
            value = ast.literal_eval(node.value)
            bases = [value] if isinstance(value, str) else list(value)
    return max([
        1 + _depth(osp.normpath(osp.join(osp.dirname(path), b))) for b in bases
    ],
               default=0)


def test_the_documented_configs_exist():
    names = {osp.basename(c) for c in CONFIGS}
    assert {
        'eva_vitb16_coco.py', 'eva_vitl14_coco.py', 'eva_vitb16_lvis.py',
        'eva_vitl14_lvis.py', 'eva_vitb16_coco_proposals.py',
        'eva_vitl14_coco_proposals.py', 'openai_vitb16_coco.py',
        'openai_vitl14_coco.py', 'eva_vitb16_cc3m.py'
    } <= names


@pytest.mark.parametrize('path', CONFIGS, ids=osp.basename)
def test_config_builds(path):
    assert _depth(path) <= 3
    cfg = Config.fromfile(path)
    assert cfg.default_scope == 'mmclipself'
    model = MODELS.build(cfg.model)
    student = model.student
    pre = cfg.model.data_preprocessor
    # student / teacher input sizes of the release (reference facts §2)
    if student.patch_size == 16:
        assert (pre.student_size, pre.crop_size) in [(1024, 224), (256, 64)]
    else:
        assert pre.student_size == 896
        assert pre.crop_size == (336 if 'eva' in osp.basename(path) else 224)
    assert not any(p.requires_grad for p in model.teacher.parameters())
    for t in cfg.train_dataloader.dataset.pipeline:
        TRANSFORMS.build(t)
    for t in cfg.val_dataloader.dataset.pipeline:
        TRANSFORMS.build(t)
    assert EVALUATOR.build(dict(type='Evaluator',
                                metrics=cfg.val_evaluator)) is not None
    METRICS.build(cfg.val_evaluator)
    for hook in cfg.get('custom_hooks', []):
        built = HOOKS.build(hook)
        if type(built).__name__ == 'StudentTeacherBlendHook':
            # release blend: 0.7 for B/16, 0.95 for L/14
            assert built.alpha == (0.7 if student.patch_size == 16 else 0.95)


def test_release_schedule_values():
    cfg = Config.fromfile(
        osp.join(REPO, 'configs', 'clipself', 'eva_vitl14_lvis.py'))
    opt = cfg.optim_wrapper.optimizer
    assert (opt.type, opt.lr, opt.weight_decay) == ('AdamW', 1e-5, 0.1)
    assert cfg.train_cfg.max_epochs == 6
    assert cfg.train_dataloader.batch_size == 2  # x 8 GPUs = 16
    assert cfg.auto_scale_lr.base_batch_size == 16
    assert cfg.param_scheduler[0].end == 1000  # warm-up iterations
    assert cfg.optim_wrapper.type == 'AmpOptimWrapper'
    assert cfg.train_dataloader.dataset.ann_file.endswith('lvis_v1_train.json')
