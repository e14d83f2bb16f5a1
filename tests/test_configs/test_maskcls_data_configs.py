# Copyright (c) mmclipself contributors. All rights reserved.
"""The mask-classification data configs load tiny sets in mmdet's scope.

Each test writes a tiny set (real photos, hand-made segments) in the
layout its config reads (COCO panoptic; ADE20K panoptic from MMDetection's
converter, semantic, instance), points the config at it, checks what the
test dataloader yields (classes in the vocabulary's order, the test size,
the labels) and that a perfect prediction scores 100 with the config's
evaluator.
"""
import os.path as osp

import numpy as np
import pytest
import torch
from mmengine.config import Config
from mmengine.registry import DefaultScope
from mmengine.runner import Runner
from PIL import Image

from mmclipself.registry import METRICS
from mmclipself.testing.panoptic import (write_tiny_ade20k,
                                         write_tiny_coco_panoptic)
from mmclipself.vocab import get_class_names

CONFIG_DIR = osp.join(
    osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__)))), 'configs',
    '_base_', 'datasets')
INSTANCE_OFFSET = 1000  # MMDetection's panoptic id = label + k * 1000


def _cfg(name, root):
    cfg = Config.fromfile(osp.join(CONFIG_DIR, f'maskcls_{name}.py'))
    # every path is built from data_root
    for key in ('ann_file', 'seg_prefix'):
        if key in cfg.test_evaluator:
            path = cfg.test_evaluator[key]
            assert path.startswith(cfg.data_root), (key, path)
            cfg.test_evaluator[key] = osp.join(
                str(root), path[len(cfg.data_root):])
    assert cfg.test_dataloader.dataset.data_root == cfg.data_root
    cfg.test_dataloader.update(num_workers=0, persistent_workers=False)
    cfg.test_dataloader.dataset.data_root = str(root)
    return cfg


def _build(cfg):
    with DefaultScope.overwrite_default_scope('mmdet'):
        loader = Runner.build_dataloader(cfg.test_dataloader)
        metric = METRICS.build(cfg.test_evaluator)
    metric.dataset_meta = loader.dataset.metainfo
    return loader, metric


def _ids(path):
    rgb = np.asarray(Image.open(path).convert('RGB')).astype(np.int64)
    return rgb[..., 0] + 256 * rgb[..., 1] + 65536 * rgb[..., 2]


def _perfect_panoptic(ids, segments, num_things, num_classes):
    """The ground truth in MMDetection's prediction format; crowd and void
    pixels are VOID (= num_classes)."""
    pred = np.full(ids.shape, num_classes, np.int64)
    k = 0
    for seg in segments:
        sid, label, crowd = seg[0], seg[1], seg[2] if len(seg) == 4 else 0
        if crowd:
            continue
        if label < num_things:
            k += 1
            pred[ids == sid] = label + k * INSTANCE_OFFSET
        else:
            pred[ids == sid] = label
    return torch.from_numpy(pred)[None]


def _short_side_640(sample):
    h, w = sample.ori_shape
    scale = min(640 / min(h, w), 2560 / max(h, w))
    assert sample.img_shape == (int(h * scale + 0.5), int(w * scale + 0.5))


@pytest.mark.parametrize('name', ['coco_panoptic', 'ade20k_panoptic'])
def test_panoptic_test_sets(tmp_path, name):
    if name == 'coco_panoptic':
        data = write_tiny_coco_panoptic(tmp_path, splits=('val2017', ))
        pan_dir, things, key = 'annotations/panoptic_val2017', 80, name
    else:
        data = write_tiny_ade20k(tmp_path)
        data['segments'] = data['panoptic']
        pan_dir, things, key = 'ade20k_panoptic_val', 100, name
    cfg = _cfg(name, tmp_path)
    assert cfg.test_evaluator.type == 'CocoPanopticMetric'
    loader, metric = _build(cfg)
    classes = loader.dataset.metainfo['classes']
    assert tuple(classes) == get_class_names(key)
    assert len(loader.dataset) == 2
    for batch, segments in zip(loader, data['segments']):
        sample = batch['data_samples'][0]
        if name == 'coco_panoptic':  # MMDetection's Resize (1333, 800)
            h, w = sample.ori_shape
            scale = min(1333 / max(h, w), 800 / min(h, w))
            assert sample.img_shape == (int(h * scale + 0.5),
                                        int(w * scale + 0.5))
        else:  # short side 640, long side at most 2560
            _short_side_640(sample)
        assert batch['inputs'][0].shape[1:] == sample.img_shape
        # the things, by label, in the vocabulary's order
        want = sorted(s[1] for s in segments
                      if s[1] < things and not (len(s) == 4 and s[2]))
        assert sorted(sample.gt_instances.labels.tolist()) == want
        png = osp.splitext(osp.basename(sample.img_path))[0] + '.png'
        ids = _ids(tmp_path / pan_dir / png)
        pred = _perfect_panoptic(ids, segments, things, len(classes))
        metric.process({}, [
            dict(
                img_id=sample.img_id,
                img_path=sample.img_path,
                ori_shape=sample.ori_shape,
                pred_panoptic_seg=dict(sem_seg=pred))
        ])
    result = metric.compute_metrics(metric.results)
    for k in ('PQ', 'SQ', 'RQ', 'PQ_th', 'PQ_st'):
        assert result[k] == pytest.approx(100.0), (k, result)


def test_coco_panoptic_lsj_training_pipeline(tmp_path):
    write_tiny_coco_panoptic(tmp_path, splits=('train2017', ))
    cfg = Config.fromfile(osp.join(CONFIG_DIR, 'maskcls_coco_panoptic.py'))
    assert cfg.train_dataloader.dataset.data_root == cfg.data_root
    cfg.train_dataloader.update(
        num_workers=0, persistent_workers=False, batch_size=2)
    cfg.train_dataloader.dataset.data_root = str(tmp_path)
    types = [t['type'] for t in cfg.train_dataloader.dataset.pipeline]
    assert types == [
        'LoadImageFromFile', 'LoadPanopticAnnotations', 'RandomFlip',
        'RandomResize', 'RandomCrop', 'PackDetInputs'
    ]
    resize = cfg.train_dataloader.dataset.pipeline[3]
    assert resize.scale == (1024, 1024) and resize.ratio_range == (0.1, 2.0)
    with DefaultScope.overwrite_default_scope('mmdet'):
        loader = Runner.build_dataloader(cfg.train_dataloader, seed=0)
    batch = next(iter(loader))
    assert len(batch['inputs']) == 2
    for img, sample in zip(batch['inputs'], batch['data_samples']):
        # at most 1024 x 1024 (the model's BatchFixedSizePad pads to it)
        assert img.shape[0] == 3 and max(img.shape[1:]) <= 1024
        assert sample.gt_sem_seg.sem_seg.shape[1:] == img.shape[1:]
        assert len(sample.gt_instances.masks) == len(
            sample.gt_instances.labels)


def test_ade20k_semantic_test_set(tmp_path):
    data = write_tiny_ade20k(tmp_path)
    cfg = _cfg('ade20k_semantic', tmp_path)
    assert cfg.test_evaluator.type == 'SemSegMetric'
    loader, metric = _build(cfg)
    assert tuple(
        loader.dataset.metainfo['classes']) == get_class_names('ade20k')
    assert len(loader.dataset) == 2
    assert (data['semantic'][0] == 0).any()  # "other" pixels
    for batch, raw in zip(loader, data['semantic']):
        sample = batch['data_samples'][0]
        _short_side_640(sample)
        # reduce_zero_label: class k is stored as k + 1, 0 ("other") -> 255
        want = raw.astype(np.int64) - 1
        want[raw == 0] = 255
        gt = sample.gt_sem_seg.sem_seg[0]
        np.testing.assert_array_equal(gt.numpy(), want)
        assert (want != 255).any()
        pred = torch.where(gt == 255, torch.zeros_like(gt), gt).long()
        metric.process({}, [
            dict(
                pred_sem_seg=dict(sem_seg=pred[None]),
                gt_sem_seg=dict(sem_seg=gt[None]),
                img_path=sample.img_path)
        ])
    result = metric.compute_metrics(metric.results)
    assert result['mIoU'] == 100.0


def test_ade20k_instance_test_set(tmp_path):
    data = write_tiny_ade20k(tmp_path)
    cfg = _cfg('ade20k_instance', tmp_path)
    assert cfg.test_evaluator.type == 'CocoMetric'
    assert cfg.test_evaluator.metric == ['segm']
    loader, metric = _build(cfg)
    assert tuple(loader.dataset.metainfo['classes']) == get_class_names(
        'ade20k_instance')
    for batch, segments in zip(loader, data['panoptic']):
        sample = batch['data_samples'][0]
        _short_side_640(sample)
        things = [(s, label) for s, label, _ in segments if label < 100]
        labels = sample.gt_instances.labels.tolist()
        assert sorted(labels) == sorted(label for _, label in things)
        png = osp.splitext(osp.basename(sample.img_path))[0] + '.png'
        ids = _ids(tmp_path / 'ade20k_panoptic_val' / png)
        masks = torch.from_numpy(np.stack([ids == s for s, _ in things]))
        ys, xs = [], []
        for m in masks:
            y, x = torch.nonzero(m, as_tuple=True)
            ys.append((y.min(), y.max() + 1))
            xs.append((x.min(), x.max() + 1))
        bboxes = torch.tensor([[x[0], y[0], x[1], y[1]]
                               for x, y in zip(xs, ys)]).float()
        metric.process({}, [
            dict(
                img_id=sample.img_id,
                ori_shape=sample.ori_shape,
                pred_instances=dict(
                    bboxes=bboxes,
                    scores=torch.ones(len(things)),
                    labels=torch.tensor([label for _, label in things]),
                    masks=masks))
        ])
    result = metric.compute_metrics(metric.results)
    assert result['segm_mAP'] == pytest.approx(1.0)
