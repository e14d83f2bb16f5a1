# Copyright (c) mmclipself contributors. All rights reserved.
"""A downstream project inherits our configs with ``mmclipself::``."""
import subprocess
import sys
import textwrap

import pytest
import torch.nn as nn
from mmengine.config import Config
from mmengine.optim import build_optim_wrapper
from mmengine.registry import init_default_scope

from mmclipself.registry import MODELS, PARAM_SCHEDULERS, VISUALIZERS

DOWNSTREAM_CFG = textwrap.dedent("""
    _base_ = [
        'mmclipself::_base_/default_runtime.py',
        'mmclipself::_base_/schedules/clipself_6e.py',
    ]
    custom_imports = dict(imports=['mmclipself'], allow_failed_imports=False)
    loss = dict(type='mmclipself.CosineSimilarityLoss', loss_weight=0.5)
    # AmpOptimWrapper (the release's AMP) needs a GPU; on CPU use the plain
    # wrapper.
    optim_wrapper = dict(type='OptimWrapper', optimizer=dict(lr=2e-5))
""")


def _write(tmp_path):
    path = tmp_path / 'downstream_project' / 'my_config.py'
    path.parent.mkdir()
    path.write_text(DOWNSTREAM_CFG)
    return path


def test_downstream_config_loads_and_builds(tmp_path):
    cfg = Config.fromfile(str(_write(tmp_path)))
    assert cfg.default_scope == 'mmclipself'
    # inherited from the schedule, overridden where the downstream says so
    assert cfg.optim_wrapper.optimizer.type == 'AdamW'
    assert cfg.optim_wrapper.optimizer.lr == 2e-5
    assert cfg.optim_wrapper.optimizer.weight_decay == 0.1

    init_default_scope(cfg.default_scope)
    loss = MODELS.build(cfg.loss)
    assert type(loss).__name__ == 'CosineSimilarityLoss'
    assert loss.loss_weight == 0.5
    optim_wrapper = build_optim_wrapper(nn.Linear(4, 4), cfg.optim_wrapper)
    assert optim_wrapper.optimizer.param_groups[0]['lr'] == 2e-5
    schedulers = [
        PARAM_SCHEDULERS.build(
            dict(s, optimizer=optim_wrapper, epoch_length=10))
        for s in cfg.param_scheduler
    ]
    assert [type(s).__name__
            for s in schedulers] == ['LinearLR', 'CosineAnnealingLR']
    assert VISUALIZERS.build(dict(cfg.visualizer, name='downstream_vis'))


@pytest.mark.slow  # a fresh Python process
def test_downstream_config_from_a_fresh_process(tmp_path):
    # Nothing imported beforehand: a stand-in for another project's train
    # script is started through `python -m mmclipself.run`, from a working
    # directory outside the repository, and loads the downstream config.
    path = _write(tmp_path)
    script = tmp_path / 'their_train.py'
    script.write_text(
        'import sys\n'
        'from mmengine.config import Config\n'
        'cfg = Config.fromfile(sys.argv[1])\n'
        'print(cfg.default_scope, cfg.optim_wrapper.optimizer.lr)\n')
    out = subprocess.run(
        [sys.executable, '-m', 'mmclipself.run',
         str(script),
         str(path)],
        cwd=tmp_path,
        capture_output=True,
        text=True)
    assert out.returncode == 0, out.stderr
    assert out.stdout.split()[-2:] == ['mmclipself', '2e-05']


@pytest.mark.slow
def test_run_reports_a_missing_script(tmp_path):
    out = subprocess.run(
        [sys.executable, '-m', 'mmclipself.run',
         str(tmp_path / 'nope.py')],
        capture_output=True,
        text=True)
    assert out.returncode != 0
    assert 'script not found' in out.stderr


def test_downstream_inherits_a_clipself_config(tmp_path):
    path = tmp_path / 'my_clipself.py'
    path.write_text(
        textwrap.dedent("""
        _base_ = 'mmclipself::clipself/eva_vitb16_coco.py'
        custom_imports = dict(imports=['mmclipself'])
        model = dict(student=dict(pretrained='my_weights/eva02_b16.pt'))
        train_dataloader = dict(batch_size=4)
    """))
    cfg = Config.fromfile(str(path))
    assert cfg.model.type == 'mmclipself.CLIPSelfDistiller'
    assert cfg.model.student.arch == 'eva02-b16'
    assert cfg.model.student.pretrained == 'my_weights/eva02_b16.pt'
    assert cfg.model.data_preprocessor.student_size == 1024
    assert cfg.train_dataloader.batch_size == 4
    assert cfg.train_dataloader.dataset.pipeline[1].type == \
        'mmclipself.RandomGridRegions'


def test_downstream_fvit_config_swaps_the_vocabulary(tmp_path):
    from mmclipself.testing.fvit import write_vocabulary
    vocab = write_vocabulary(tmp_path / 'mine.pt', ['cat', 'dog'], dim=512)
    path = tmp_path / 'my_fvit.py'
    path.write_text(
        textwrap.dedent(f"""
        _base_ = 'mmclipself::fvit/fvit_eva-vitb16_ov-coco.py'
        custom_imports = dict(imports=['mmclipself'],
                              allow_failed_imports=False)
        model = dict(roi_head=dict(bbox_head=dict(
            cls_predictor_cfg=dict(embeddings={vocab!r}),
            base_classes=None)))
    """))
    cfg = Config.fromfile(str(path))
    # the scope rule: MMDetection's scope, our types prefixed
    assert cfg.default_scope == 'mmdet'
    assert cfg.model.type == 'mmclipself.FViT'
    assert cfg.train_dataloader.batch_sampler.type == \
        'AspectRatioBatchSampler'
    assert cfg.model.roi_head.clip_fusion.temperature == 75.0
    head = MODELS.build(dict(cfg.model.roi_head.bbox_head, _scope_='mmdet'))
    assert head.class_names == ['cat', 'dog'] and head.num_classes == 2
