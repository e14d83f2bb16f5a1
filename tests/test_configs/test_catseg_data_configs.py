# Copyright (c) mmclipself contributors. All rights reserved.
"""The Cat-Seg data configs build and load tiny sets in mmseg's scope.

Each test writes a tiny set (real photos, hand-made label maps) in the
layout of the config, points ``data_root`` at it and checks what reaches
the model and the metric: the input at short side 640 (release), the
labels at their original size with the dataset's mapping done by hand here,
and a perfect prediction scoring 100 mIoU with the config's evaluator.
"""
import os.path as osp

import numpy as np
import pytest
import torch
from mmengine.config import Config
from mmengine.registry import DefaultScope
from mmengine.runner import Runner

from mmclipself.registry import METRICS
from mmclipself.testing.segmentation import LAYOUTS, write_seg_set
from mmclipself.vocab import get_class_names

CONFIG_DIR = osp.join(
    osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__)))), 'configs',
    '_base_', 'datasets')


def _reduce_zero(g):
    out = g.astype(np.int64) - 1
    out[(g == 0) | (g == 255)] = 255
    return out


def _voc(background):

    def f(g):
        out = g.astype(np.int64) - 1
        out[g == 0] = background
        out[g == 255] = 255
        return out

    return f


# name -> (label dtype, max raw label, ignore index, class-name key,
#          expected label mapping)
CASES = {
    'coco_stuff164k': (np.uint8, 170, 255, 'coco_stuff', None),
    'ade20k_150': (np.uint8, 150, 255, 'ade20k', _reduce_zero),
    'ade20k_847': (np.uint16, 846, 65535, 'ade847', None),
    'pascal_context_59': (np.uint8, 59, 255, 'pascal_context59', _reduce_zero),
    'pascal_context_459': (np.uint16, 458, 459, 'pc459', None),
    'voc20': (np.uint8, 20, 255, 'voc20', _voc(255)),
    'voc20b': (np.uint8, 20, 255, None, _voc(20)),
}


def _labels(dtype, top, ignore):
    """Two hand-made maps: bands of 0, a middle class, the top class and
    the raw ignore value of the set (255, 65535) where it has one."""
    a = np.zeros((30, 40), dtype)
    a[10:20] = top // 2
    a[20:] = top
    b = np.full((36, 28), top, dtype)
    b[:, :9] = 1
    if ignore in (255, 65535):
        a[:3, :5] = ignore
        b[-4:] = ignore
    return dict(s1=a, s2=b)


def _cfg(name, root):
    cfg = Config.fromfile(osp.join(CONFIG_DIR, f'catseg_{name}.py'))
    for key in ('train_dataloader', 'val_dataloader', 'test_dataloader'):
        cfg[key].update(num_workers=0, persistent_workers=False)
    cfg.test_dataloader.dataset.data_root = str(root)
    return cfg


@pytest.mark.parametrize('name', list(CASES))
def test_test_dataloader_and_evaluator(tmp_path, name):
    dtype, top, ignore, key, mapping = CASES[name]
    labels = _labels(dtype, top, ignore)
    write_seg_set(tmp_path, name, labels)
    cfg = _cfg(name, tmp_path)
    layout = LAYOUTS[name]
    assert cfg.test_dataloader.dataset.data_prefix.img_path == \
        layout['img_path']
    assert cfg.test_dataloader.batch_size == 1
    assert cfg.test_evaluator.ignore_index == ignore
    with DefaultScope.overwrite_default_scope('mmseg'):
        loader = Runner.build_dataloader(cfg.test_dataloader)
        metric = METRICS.build(cfg.test_evaluator)
    classes = loader.dataset.metainfo['classes']
    expected = get_class_names(
        key) if key else get_class_names('voc20') + ('background', )
    assert tuple(classes) == tuple(expected)
    assert len(loader.dataset) == 2
    metric.dataset_meta = loader.dataset.metainfo
    for batch, name_ in zip(loader, sorted(labels)):
        h, w = labels[name_].shape
        short = 640 / min(h, w)  # ResizeShortestEdge(640), max side 2560
        assert batch['inputs'][0].shape == (3, round(h * short),
                                            round(w * short))
        sample = batch['data_samples'][0]
        assert sample.ori_shape == labels[name_].shape
        gt = sample.gt_sem_seg.data[0]
        raw = labels[name_]
        want = mapping(raw) if mapping else raw.astype(np.int64)
        np.testing.assert_array_equal(gt.numpy(), want)
        # a perfect prediction; VOC-20b's model predicts one of the 39
        # non-VOC classes (e.g. 35) for background
        pred = torch.where(gt == ignore, torch.zeros_like(gt), gt)
        if name == 'voc20b':
            pred[pred == 20] = 35
        metric.process({}, [
            dict(
                pred_sem_seg=dict(data=pred[None]),
                gt_sem_seg=dict(data=gt[None]))
        ])
    result = metric.compute_metrics(metric.results)
    assert result['mIoU'] == 100.0 and result['mAcc'] == 100.0


def test_coco_stuff_training_pipeline(tmp_path):
    labels = dict(t1=np.full((300, 420), 7, np.uint8))
    labels['t1'][:, :200] = 255
    labels['t2'] = np.full((420, 300), 170, np.uint8)
    write_seg_set(tmp_path, 'coco_stuff164k_train', labels)
    cfg = _cfg('coco_stuff164k', tmp_path)
    cfg.train_dataloader.dataset.data_root = str(tmp_path)
    cfg.train_dataloader.batch_size = 2
    types = [t['type'] for t in cfg.train_dataloader.dataset.pipeline]
    assert types == [
        'LoadImageFromFile', 'LoadAnnotations', 'ResizeShortestEdge',
        'RandomCrop', 'PhotoMetricDistortion', 'RandomFlip', 'Pad',
        'PackSegInputs'
    ]
    with DefaultScope.overwrite_default_scope('mmseg'):
        loader = Runner.build_dataloader(cfg.train_dataloader, seed=0)
    batch = next(iter(loader))
    # short side 384, then a 384x384 crop (facts §2.3)
    for img, sample in zip(batch['inputs'], batch['data_samples']):
        assert img.shape == (3, 384, 384)
        values = set(sample.gt_sem_seg.data.unique().tolist())
        assert values <= {7, 255} or values == {170}


def test_coco_stuff_training_pads_as_the_release(tmp_path):
    # a 40x800 image: short side 384 would make the long side 7680 > 1333,
    # so it becomes 67x1333, is cropped to 67x384 and padded to 384x384
    # with raw pixel 128 and label 255 (facts §2.3)
    write_seg_set(tmp_path, 'coco_stuff164k_train',
                  dict(wide=np.full((40, 800), 9, np.uint8)))
    cfg = _cfg('coco_stuff164k', tmp_path)
    cfg.train_dataloader.dataset.data_root = str(tmp_path)
    pipeline = cfg.train_dataloader.dataset.pipeline
    pipeline[:] = [t for t in pipeline if t['type'] != 'PhotoMetricDistortion']
    with DefaultScope.overwrite_default_scope('mmseg'):
        loader = Runner.build_dataloader(cfg.train_dataloader, seed=0)
    batch = next(iter(loader))
    img, label = batch['inputs'][0], batch['data_samples'][0].gt_sem_seg.data
    assert img.shape == (3, 384, 384)
    rows = int((label[0, :, 0] == 9).sum())
    assert rows == 67
    assert (img[:, rows:] == 128).all() and (label[0, rows:] == 255).all()
    assert (label[0, :rows] == 9).all()
