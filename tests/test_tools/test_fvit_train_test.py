# Copyright (c) mmclipself contributors. All rights reserved.
"""F-ViT train + test end to end on tiny OV-COCO and OV-LVIS sets.

The shipped configs, shrunk (tests/test_models/test_detectors/_fvit.py),
train one epoch on three real photos with hand-made boxes and masks, then
evaluate with the release protocols; MMDetection's own test script, run on
the same config and checkpoint, prints the same numbers as ours.
"""
import json
import os.path as osp
import re
import subprocess
import sys

import mmdet
import pytest
import torch
from mmengine.runner import Runner

from mmclipself.datasets import build_ov_coco, build_ov_lvis
from mmclipself.testing.detection import write_tiny_coco, write_tiny_lvis
from mmclipself.testing.fvit import (REPO, tiny_fvit_config, write_tower,
                                     write_vocabulary)
from mmclipself.vocab import get_class_names

MMDET_TEST = osp.join(osp.dirname(mmdet.__file__), '.mim', 'tools', 'test.py')

# trains and tests through the Runner and MMDetection's test script
pytestmark = pytest.mark.slow


def _write_json(path, data):
    with open(path, 'w') as f:
        json.dump(data, f)
    return str(path)


def _set_data(cfg, data, train_ann, val_ann, classes=None):
    for split, ann in (('train', train_ann), ('val', val_ann), ('test',
                                                                val_ann)):
        ds = cfg[f'{split}_dataloader'].dataset
        ds.update(
            data_root=data['data_root'],
            ann_file=ann,
            data_prefix=data['data_prefix'])
        if classes is not None:
            ds.metainfo = dict(classes=classes)
        cfg[f'{split}_dataloader'].batch_size = 2 if split == 'train' else 1
    cfg.train_dataloader.dataset.filter_cfg = dict(
        filter_empty_gt=False, min_size=0)
    for name in ('val_evaluator', 'test_evaluator'):
        cfg[name].ann_file = val_ann


def _cpu_schedule(cfg, work_dir):
    cfg.optim_wrapper = dict(
        type='OptimWrapper',
        optimizer=dict(type='AdamW', lr=1e-4, weight_decay=0.1),
        clip_grad=dict(max_norm=1.0, norm_type=2))
    cfg.train_cfg.max_epochs = 1
    cfg.param_scheduler = [
        dict(type='LinearLR', start_factor=0.1, by_epoch=False, end=2)
    ]
    cfg.default_hooks.logger.interval = 1
    cfg.work_dir = str(work_dir)
    cfg.randomness = dict(seed=0)


def _coco_cfg(tmp_path):
    data = write_tiny_coco(tmp_path / 'coco', 'train')
    with open(data['ann_file']) as f:
        full = json.load(f)
    train = _write_json(tmp_path / 'train65.json',
                        build_ov_coco(full, 'train'))
    val = _write_json(tmp_path / 'val65.json', build_ov_coco(full, 'val'))
    cfg = tiny_fvit_config(
        'configs/fvit/fvit_eva-vitb16_ov-coco.py',
        write_tower(tmp_path / 'tower.pth'),
        write_vocabulary(tmp_path / 'coco65.pt', get_class_names('coco65')))
    _set_data(cfg, data, train, val)
    _cpu_schedule(cfg, tmp_path / 'work')
    return cfg, train


def test_ov_coco_train_and_test(tmp_path):
    cfg, train_ann = _coco_cfg(tmp_path)
    with open(train_ann) as f:
        train = json.load(f)
    # the training file has base annotations only (person, spoon)
    names = {c['id']: c['name'] for c in train['categories']}
    assert {names[a['category_id']]
            for a in train['annotations']} == {'person', 'spoon'}
    runner = Runner.from_cfg(cfg)
    tower = torch.load(tmp_path / 'tower.pth')
    runner.train()
    metrics = runner.val_loop.run()
    for key in ('bbox_novel_ap50', 'bbox_base_ap50', 'bbox_all_ap50',
                'bbox_mAP', 'bbox_mAP_50'):
        assert f'coco/{key}' in metrics
    # the frozen tower is untouched by training and not in the checkpoint
    trained = runner.model.backbone.clip.tower().state_dict()
    for k, v in tower.items():
        assert torch.equal(trained[k], v), k
    ckpt = torch.load(tmp_path / 'work' / 'epoch_1.pth', weights_only=False)
    assert [k for k in ckpt['state_dict'] if k.startswith('backbone.clip.')
            ] == ['backbone.clip.__frozen__']  # the tower's record only
    assert not any('text_embeddings' in k for k in ckpt['state_dict'])
    # resume from that small checkpoint: the tower is refilled from its
    # pretrained source (read by init_weights, checked against the record),
    # optimizer and loop state come back
    cfg.train_cfg.max_epochs = 2
    cfg.resume = True
    cfg.experiment_name = 'resumed'
    resumed = Runner.from_cfg(cfg)
    resumed.train()
    assert resumed.epoch == 2 and resumed.iter == 2 * runner.iter
    for k, v in tower.items():
        assert torch.equal(resumed.model.backbone.clip.tower().state_dict()[k],
                           v), k


def _metrics(stdout):
    """The final metrics line of a test run: {name: value}."""
    lines = [ln for ln in stdout.splitlines() if 'Epoch(test)' in ln]
    assert lines, stdout[-3000:]
    return dict(re.findall(r'(lvis/\w+): (-?[\d.]+|nan)', lines[-1]))


def test_ov_lvis_train_then_ours_and_mmdets_test_scripts_agree(tmp_path):
    data = write_tiny_lvis(tmp_path / 'lvis', 'train')
    with open(data['ann_file']) as f:
        full = json.load(f)
    train = _write_json(tmp_path / 'train_seen.json', build_ov_lvis(full))
    classes = list(data['classes'])
    cfg = tiny_fvit_config(
        'configs/fvit/fvit_eva-vitb16_ov-lvis.py',
        write_tower(tmp_path / 'tower.pth'),
        write_vocabulary(tmp_path / 'lvis5.pt', classes),
        base_classes=train)  # cat is rare: no image left, novel
    _set_data(cfg, data, train, data['ann_file'], classes=classes)
    _cpu_schedule(cfg, tmp_path / 'work')
    cfg.val_evaluator.novel_base_ap50 = True
    cfg.test_evaluator.novel_base_ap50 = True
    runner = Runner.from_cfg(cfg)
    assert runner.model.roi_head.bbox_head.base_mask.tolist(
    ) == [c != 'cat' for c in classes] + [True]
    runner.train()
    config = str(tmp_path / 'tiny_fvit_lvis.py')
    cfg.dump(config)
    ckpt = str(tmp_path / 'work' / 'epoch_1.pth')
    runs = {}
    scripts = dict(ours=osp.join(REPO, 'tools', 'test.py'), mmdet=MMDET_TEST)
    for name, script in scripts.items():
        cmd = [
            sys.executable, '-m', 'mmclipself.run', script, config, ckpt,
            '--work-dir',
            str(tmp_path / name), '--show-dir', 'vis'
        ]
        out = subprocess.run(
            cmd,
            cwd=str(tmp_path),
            capture_output=True,
            text=True,
            timeout=600)
        assert out.returncode == 0, out.stderr[-3000:]
        runs[name] = _metrics(out.stdout + out.stderr)
    for key in ('lvis/segm_APr', 'lvis/segm_AP', 'lvis/bbox_APr',
                'lvis/segm_novel_ap50', 'lvis/segm_base_ap50'):
        assert key in runs['ours'], runs['ours']
    assert runs['ours'] == runs['mmdet']
    # both drew the predictions with MMDetection's visualiser
    for name in runs:
        drawn = sorted(p.name for p in (tmp_path / name).glob('*/vis/*'))
        assert drawn == [
            '000000000001.jpg', '000000000002.jpg', '000000000003.jpg'
        ], drawn
