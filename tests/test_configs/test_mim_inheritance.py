# Copyright (c) mmclipself contributors. All rights reserved.
"""A downstream project inherits our configs with ``mmclipself::``."""
import glob
import os.path as osp
import subprocess
import sys
import textwrap

import pytest
import torch
import torch.nn as nn
from mmengine.config import Config
from mmengine.optim import build_optim_wrapper
from mmengine.registry import DefaultScope, init_default_scope

from mmclipself.registry import MODELS, PARAM_SCHEDULERS, VISUALIZERS

CONFIG_DIR = osp.join(
    osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__)))), 'configs')

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


def test_downstream_catseg_config_tests_another_vocabulary(tmp_path):
    classes = tmp_path / 'classes.txt'
    classes.write_text('cat\nsofa, couch\nwall\n')
    path = tmp_path / 'my_catseg.py'
    path.write_text(
        textwrap.dedent(f"""
        _base_ = ('mmclipself::catseg/catseg_openai-vitb16_cvpr_'
                  'ade20k-150-640x640.py')
        custom_imports = dict(imports=['mmclipself'],
                              allow_failed_imports=False)
        model = dict(test_vocabulary={str(classes)!r})
    """))
    cfg = Config.fromfile(str(path))
    # MMSegmentation's scope, our types prefixed, the user's vocabulary
    assert cfg.default_scope == 'mmseg'
    assert cfg.model.type == 'mmclipself.CATSeg'
    assert cfg.test_dataloader.dataset.type == 'ADE20KDataset'
    from mmclipself.testing.catseg import tiny_catseg_config
    with DefaultScope.overwrite_default_scope('mmseg'):
        model = MODELS.build(tiny_catseg_config(cfg).model)
    assert list(model.class_names) == ['cat', 'sofa, couch', 'wall']
    assert model.train_class_names[0] == 'person'  # COCO-Stuff's first


# The README snippet ("Inherit our configs from your own MM project") with
# what a CPU test needs: the tiny tower, two photos, one iteration.
README_SNIPPET_RUN = textwrap.dedent("""
    _base_ = 'mmclipself::clipself/eva_vitb16_coco.py'
    custom_imports = dict(imports=['mmclipself'], allow_failed_imports=False)
    model = dict(
        student=dict(pretrained=None, arch=dict(_delete_=True, **{arch!r})),
        data_preprocessor=dict(student_size=64, crop_size=32))
    train_dataloader = dict(
        num_workers=0,
        persistent_workers=False,
        dataset=dict(data_root='', ann_file='{images}',
                     data_prefix=dict(img_path='{root}')))
    val_dataloader = val_cfg = val_evaluator = None
    test_dataloader = test_cfg = test_evaluator = None
    train_cfg = dict(_delete_=True, type='IterBasedTrainLoop', max_iters=1)
    param_scheduler = []
    optim_wrapper = dict(type='OptimWrapper')  # AMP needs a GPU
    default_hooks = dict(
        checkpoint=dict(by_epoch=False), logger=dict(interval=1))
    log_processor = dict(by_epoch=False)
""")


@pytest.mark.slow  # trains one batch in a fresh process
def test_readme_snippet_trains_a_real_batch(tmp_path):
    # MMEngine adds `_scope_='mmclipself'` to every typed dict of a base
    # read through `mmclipself::`; a `collate_fn` dict is not built by a
    # registry but passed to `functools.partial`, so a collate_fn written
    # in our configs reached pseudo_collate as a keyword and the first
    # batch failed.
    import skimage.data

    from mmclipself.testing.runs import REPO
    from mmclipself.testing.towers import TINY_EVA
    (tmp_path / 'images.txt').write_text('astronaut.png\ncoffee.png\n')
    path = tmp_path / 'downstream_project' / 'my_clipself.py'
    path.parent.mkdir()
    path.write_text(
        README_SNIPPET_RUN.format(
            arch=TINY_EVA,
            images=tmp_path / 'images.txt',
            root=skimage.data.data_dir))
    work_dir = tmp_path / 'work'
    out = subprocess.run([
        sys.executable, '-m', 'mmclipself.run',
        osp.join(REPO, 'tools', 'train.py'),
        str(path), '--work-dir',
        str(work_dir)
    ],
                         cwd=tmp_path,
                         capture_output=True,
                         text=True,
                         timeout=600)
    assert out.returncode == 0, out.stderr[-3000:]
    assert 'Iter(train) [1/1]' in out.stdout + out.stderr
    ckpt = torch.load(work_dir / 'iter_1.pth', weights_only=True)
    assert ckpt['meta']['iter'] == 1
    assert 'student.trunk.blocks.0.attn.q_proj.weight' in ckpt['state_dict']


def test_no_config_writes_a_collate_fn():
    # Runner.build_dataloader passes every key of a `collate_fn` dict but
    # `type` to the function, and a config inherited through `mmclipself::`
    # gets `_scope_` in every typed dict: leave collate_fn to MMEngine's
    # default (pseudo_collate), as MMDetection's configs do.
    configs = glob.glob(osp.join(CONFIG_DIR, '**', '*.py'), recursive=True)
    assert len(configs) > 20
    writing = [
        osp.relpath(c, CONFIG_DIR) for c in configs
        if 'collate_fn=' in open(c).read().replace(' ', '')
    ]
    assert writing == []
