# Copyright (c) mmclipself contributors. All rights reserved.
"""The base-class RPN config trains, and its dumped proposals feed CLIPSelf.

A tiny version of ``configs/fvit/rpn_eva-vitb16_ov-coco-base.py`` (4-block,
64-wide EVA02 tower, 128 x 128 input) trains for one iteration on the tiny
OV-COCO set (3 photos; the cat-only photo has no base-class box), then
``tools/misc/dump_proposals.py`` writes the proposals of all 3 images, which
``ImageRegionDataset`` and the pipeline of
``configs/clipself/eva_vitb16_coco_proposals.py`` read back.
"""
import json
import os.path as osp
import runpy
from pathlib import Path
from typing import Tuple

import numpy as np
import pytest
import torch
from mmdet.models.detectors import RPN
from mmengine.config import Config
from mmengine.runner import Runner

from mmclipself.datasets import ImageRegionDataset, build_ov_coco
from mmclipself.models.backbones import CLIPViTPyramid
from mmclipself.registry import MODELS
from mmclipself.testing.configs import config_depth as _depth
from mmclipself.testing.detection import SIZES, write_tiny_coco
from mmclipself.testing.fvit import IMAGE_SIZE, TINY_FVIT_EVA, write_tower

REPO = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))
RPN_CFG = osp.join(REPO, 'configs', 'fvit', 'rpn_eva-vitb16_ov-coco-base.py')
FVIT_CFG = osp.join(REPO, 'configs', 'fvit', 'fvit_eva-vitb16_ov-coco.py')
CLIPSELF_CFG = osp.join(REPO, 'configs', 'clipself',
                        'eva_vitb16_coco_proposals.py')
TOOL = runpy.run_path(osp.join(REPO, 'tools', 'misc', 'dump_proposals.py'))
dump_main = TOOL['main']


def tiny_rpn_config(tower: str, data: dict = None, work_dir: str = None):
    """Load the shipped RPN config and shrink it like ``tiny_fvit_config``.

    Args:
        tower: Tiny tower weights (``write_tower``), the ``pretrained``.
        data: ``dict(data_root, train, val)`` of :func:`_write_ov_coco`;
            None keeps the shipped data paths.
        work_dir: The Runner's work dir.
    """
    cfg = Config.fromfile(RPN_CFG)
    m = cfg.model
    m.data_preprocessor.pad_size_divisor = IMAGE_SIZE
    m.backbone.clip = dict(
        type='mmclipself.EVA02CLIPViT', arch=TINY_FVIT_EVA, pretrained=tower)
    m.backbone.out_indices = (0, 1, 2, 3)
    m.neck.in_channels = [TINY_FVIT_EVA['embed_dim']] * 4
    m.neck.out_channels = 32
    m.rpn_head.in_channels = m.rpn_head.feat_channels = 32
    # patch 8: levels at strides 2, 4, 8, 16 (p/4 ... 2p), 32 for FPN's P6
    m.rpn_head.anchor_generator.strides = [2, 4, 8, 16, 32]
    m.test_cfg.rpn.update(nms_pre=200, max_per_img=50)
    for split in ('train', 'val', 'test'):
        loader = cfg[f'{split}_dataloader']
        for t in loader.dataset.pipeline:
            for key in ('scale', 'crop_size'):
                if key in t:
                    t[key] = (IMAGE_SIZE, IMAGE_SIZE)
        loader.num_workers = 0
        loader.persistent_workers = False
        if data is not None:
            ann = data['train' if split == 'train' else 'val']
            loader.dataset.update(
                data_root=data['data_root'],
                ann_file=ann,
                data_prefix=dict(img='images/'))
    cfg.train_dataloader.batch_size = 2
    if data is not None:
        cfg.val_evaluator.ann_file = cfg.test_evaluator.ann_file = \
            data['val']
    # CPU: no fp16 (AmpOptimWrapper needs a GPU)
    cfg.optim_wrapper = dict(
        type='OptimWrapper',
        optimizer=cfg.optim_wrapper.optimizer,
        clip_grad=cfg.optim_wrapper.clip_grad)
    cfg.train_cfg = dict(
        type='EpochBasedTrainLoop', max_epochs=1, val_interval=1)
    cfg.default_hooks.logger.interval = 1
    cfg.randomness = dict(seed=0)
    if work_dir is not None:
        cfg.work_dir = work_dir
    return cfg


def _write_ov_coco(root: Path) -> dict:
    """The tiny COCO set as OV-COCO files (train: base boxes only)."""
    tiny = write_tiny_coco(root, 'all')
    with open(tiny['ann_file']) as f:
        instances = json.load(f)
    out = dict(data_root=str(root))
    for split in ('train', 'val'):
        path = root / 'annotations' / f'ov_{split}.json'
        path.write_text(json.dumps(build_ov_coco(instances, split)))
        out[split] = str(path)
    return out


@pytest.fixture(scope='module')
def trained(tmp_path_factory) -> Tuple[str, str, dict]:
    """Train the tiny RPN for one iteration; (config, checkpoint, data)."""
    tmp = tmp_path_factory.mktemp('rpn')
    data = _write_ov_coco(tmp / 'coco')
    tower = write_tower(tmp / 'tower.pth')
    cfg = tiny_rpn_config(tower, data, str(tmp / 'work_dir'))
    cfg_file = str(tmp / 'rpn_tiny.py')
    cfg.dump(cfg_file)
    runner = Runner.from_cfg(cfg)
    runner.train()
    assert runner.iter == 1  # the 2 images with a base-class box
    ckpt = str(tmp / 'work_dir' / 'epoch_1.pth')
    return cfg_file, ckpt, data


def test_rpn_config_is_fvit_without_roi_head(tmp_path):
    assert _depth(RPN_CFG) <= 3
    cfg = Config.fromfile(RPN_CFG)
    fvit = Config.fromfile(FVIT_CFG)
    assert cfg.model.type == 'RPN' and cfg.model._scope_ == 'mmdet'
    assert 'roi_head' not in cfg.model
    for key in ('data_preprocessor', 'backbone', 'neck', 'rpn_head'):
        assert cfg.model[key] == fvit.model[key], key
    assert cfg.model.train_cfg == dict(rpn=fvit.model.train_cfg.rpn)
    assert cfg.model.test_cfg == dict(rpn=fvit.model.test_cfg.rpn)
    assert cfg.train_dataloader.dataset.ann_file == \
        'annotations/instances_train2017_seen_2_65_cat.json'
    assert cfg.train_dataloader.dataset.pipeline == \
        fvit.train_dataloader.dataset.pipeline
    assert cfg.optim_wrapper == fvit.optim_wrapper
    assert cfg.train_cfg == fvit.train_cfg
    assert cfg.val_evaluator.metric == 'proposal'
    assert cfg.val_evaluator.ann_file == fvit.val_evaluator.ann_file
    assert 'novel_classes' not in cfg.val_evaluator

    tower = write_tower(tmp_path / 'tower.pth')
    model = MODELS.build(tiny_rpn_config(tower).model)
    assert isinstance(model, RPN)
    assert isinstance(model.backbone, CLIPViTPyramid)
    assert model.bbox_head.num_classes == 1  # class-agnostic
    assert not any(p.requires_grad for p in model.backbone.clip.parameters())


@pytest.mark.slow  # the `trained` fixture trains through the Runner
def test_dump_feeds_image_region_dataset(trained, tmp_path):
    cfg_file, ckpt, data = trained
    saved = torch.load(ckpt, map_location='cpu')['state_dict']
    # only the frozen tower's record: it is read from `pretrained` first
    assert [k for k in saved
            if k.startswith('backbone.clip.')] == ['backbone.clip.__frozen__']

    clipself = Config.fromfile(CLIPSELF_CFG).train_dataloader.dataset
    name = clipself.proposal_file  # relative to data_root
    out = osp.join(data['data_root'], name)
    summary = dump_main([
        cfg_file, ckpt, '--out', out, '--max-per-img', '20', '--device', 'cpu',
        '--log-interval', '1'
    ])
    assert summary['images'] == 3  # also the cat photo: no base box
    assert summary['images_without_boxes'] == 0
    assert 3 <= summary['boxes'] <= 60
    assert summary['mean_per_image'] == summary['boxes'] / 3

    records = json.load(open(out))
    assert len(records) == summary['boxes']
    for r in records:
        assert set(r) == {'image_id', 'bbox', 'score'}
        assert isinstance(r['image_id'], int)
        assert all(round(v, 2) == v for v in r['bbox'])
    by_image = {}
    for r in records:
        by_image.setdefault(r['image_id'], []).append(r['score'])
    assert sorted(by_image) == [1, 2, 3]
    for scores in by_image.values():
        assert 1 <= len(scores) <= 20
        assert scores == sorted(scores, reverse=True)

    ds = ImageRegionDataset(
        ann_file=data['train'],
        data_root=data['data_root'],
        data_prefix=dict(img_path='images/'),
        proposal_file=name,
        pipeline=clipself.pipeline)
    assert len(ds) == 3
    widest = 0.
    for i in range(len(ds)):
        info = ds.get_data_info(i)
        boxes = info['proposals']
        w, h = SIZES[info['img_id']]
        assert 1 <= len(boxes) <= 20
        assert (boxes[:, :2] >= 0).all()
        assert (boxes[:, 2] <= w + 1e-3).all()
        assert (boxes[:, 3] <= h + 1e-3).all()
        assert (boxes[:, 2:] > boxes[:, :2]).all()
        widest = max(widest, float(boxes[:, 2].max()))
        # the CLIPSelf proposal pipeline distils on them (no fallback box)
        regions = ds[i]['data_samples'].regions.numpy()
        assert len(regions) >= 1
        assert all(np.abs(boxes - r).max(1).min() < 1e-3 for r in regions)
    # boxes are in original pixels, not the 128-pixel test input
    assert widest > IMAGE_SIZE * 1.5


@pytest.mark.slow
def test_dump_filters_and_val_split(trained, tmp_path):
    cfg_file, ckpt, data = trained
    out = str(tmp_path / 'val.json')
    summary = dump_main([
        cfg_file, ckpt, '--out', out, '--split', 'val', '--max-per-img', '3',
        '--min-size', '40', '--batch-size', '2', '--device', 'cpu'
    ])
    assert summary['images'] == 3
    records = json.load(open(out))
    assert all(r['bbox'][2] >= 40 and r['bbox'][3] >= 40 for r in records)
    counts = np.bincount([r['image_id'] for r in records], minlength=4)
    assert (counts <= 3).all()

    summary = dump_main([
        cfg_file, ckpt, '--out', out, '--score-thr', '1.01', '--device', 'cpu'
    ])
    assert summary == dict(
        images=3, boxes=0, mean_per_image=0., images_without_boxes=3)
    assert json.load(open(out)) == []


@pytest.mark.slow
def test_strict_loading_names_unexpected_keys(trained, tmp_path):
    cfg_file, ckpt, _ = trained
    state = torch.load(ckpt, map_location='cpu')
    state['state_dict']['bbox_head.bogus'] = torch.zeros(1)
    bad = str(tmp_path / 'bad.pth')
    torch.save(state, bad)
    with pytest.raises(RuntimeError, match='bbox_head.bogus'):
        dump_main([cfg_file, bad, '--out', str(tmp_path / 'x.json')])


def test_missing_files_are_named(tmp_path):
    missing = str(tmp_path / 'rpn_epoch_3.pth')
    with pytest.raises(FileNotFoundError, match='rpn_epoch_3.pth'):
        dump_main([RPN_CFG, missing, '--out', str(tmp_path / 'x.json')])
    with pytest.raises(FileNotFoundError, match='no_such_config.py'):
        dump_main([
            str(tmp_path / 'no_such_config.py'), missing, '--out',
            str(tmp_path / 'x.json')
        ])


def test_records_are_clipped_rounded_filtered_and_sorted():
    to_records = TOOL['proposals_to_records']
    boxes = np.array([
        [-5., -3., 50.004, 40.],  # clipped to the image's top-left
        [10., 10., 120., 90.],  # past the right/bottom border (100 x 80)
        [1., 1., 4., 30.],  # 3 px wide
        [20.126, 20., 20.13, 30.],  # zero width once rounded
        [5., 5., 60., 60.],
    ])
    scores = np.array([0.5, 0.9, 0.95, 0.99, 0.05])
    records = to_records(boxes, scores, 7, (80, 100), max_per_img=10)
    assert [r['score'] for r in records] == [0.95, 0.9, 0.5, 0.05]
    assert records[1] == dict(image_id=7, bbox=[10., 10., 90., 70.], score=0.9)
    assert records[2]['bbox'] == [0., 0., 50., 40.]

    kept = to_records(boxes, scores, 7, (80, 100), 2, score_thr=0.1)
    assert [r['score'] for r in kept] == [0.95, 0.9]
    kept = to_records(boxes, scores, 7, (80, 100), 10, min_size=5)
    assert [r['score'] for r in kept] == [0.9, 0.5, 0.05]
    assert to_records(np.zeros((0, 4)), np.zeros(0), 7, (80, 100)) == []


def test_loader_uses_train_images_with_the_test_pipeline():
    cfg = Config.fromfile(RPN_CFG)
    loader = TOOL['proposal_loader_cfg'](cfg, 'train', batch_size=4)
    assert loader.dataset.ann_file == cfg.train_dataloader.dataset.ann_file
    assert loader.dataset.data_prefix == dict(img='train2017/')
    assert loader.dataset.test_mode
    assert [t.type for t in loader.dataset.pipeline
            ] == ['LoadImageFromFile', 'Resize', 'PackDetInputs']
    assert loader.sampler == dict(type='DefaultSampler', shuffle=False)
    assert loader.batch_size == 4

    cfg.test_dataloader.dataset.pipeline.insert(
        1, dict(type='RandomFlip', prob=0.5))
    with pytest.raises(ValueError, match='RandomFlip'):
        TOOL['proposal_loader_cfg'](cfg, 'val')
