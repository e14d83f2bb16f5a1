# Copyright (c) mmclipself contributors. All rights reserved.
"""ADE-847: 16-bit labels from disk to mmseg's IoUMetric, and input errors.

The errors are those of :class:`LabelFolderSegDataset`, its base.
"""
import numpy as np
import pytest
import torch
from mmengine.registry import DefaultScope
from mmseg.evaluation import IoUMetric

from mmclipself.datasets import ADE20K847Dataset, LabelFolderSegDataset
from mmclipself.registry import DATASETS
from mmclipself.testing.segmentation import LAYOUTS, write_seg_set
from mmclipself.vocab import get_class_names


def _labels():
    """Two hand-made maps: bands of classes past 255 and the ignore 65535."""
    a = np.zeros((24, 32), np.uint16)
    a[:8] = 300
    a[8:16, :16] = 846
    a[8:16, 16:] = 65535
    b = np.full((20, 28), 511, np.uint16)
    b[:, :7] = 65535
    b[10:, 7:] = 300
    return dict(ADE_val_00000001=a, ADE_val_00000002=b)


def _pipeline(loader='mmclipself.LoadSegAnnotations16'):
    return [
        dict(type='LoadImageFromFile'),
        dict(type=loader),
        dict(type='PackSegInputs')
    ]


def _build(root, pipeline=None, **kwargs):
    cfg = dict(
        type='mmclipself.ADE20K847Dataset',
        data_root=str(root),
        data_prefix=dict(
            img_path=LAYOUTS['ade20k_847']['img_path'],
            seg_map_path=LAYOUTS['ade20k_847']['seg_map_path']),
        pipeline=pipeline or _pipeline(),
        test_mode=True)
    cfg.update(kwargs)
    with DefaultScope.overwrite_default_scope('mmseg'):
        return DATASETS.build(cfg)


def test_classes_and_samples(tmp_path):
    labels = _labels()
    write_seg_set(tmp_path, 'ade20k_847', labels)
    ds = _build(tmp_path)
    assert isinstance(ds, ADE20K847Dataset)
    assert ds.metainfo['classes'] == get_class_names('ade847')
    assert len(ds.metainfo['classes']) == 847
    assert len(ds.metainfo['palette']) == 847
    assert ds.ignore_index == 65535
    assert len(ds) == 2
    info = ds.get_data_info(0)
    assert info['img_path'].endswith('ADE_val_00000001.jpg')
    assert info['seg_map_path'].endswith('ADE_val_00000001.tif')


def test_exact_labels_reach_iou_metric(tmp_path):
    labels = _labels()
    write_seg_set(tmp_path, 'ade20k_847', labels)
    ds = _build(tmp_path)
    metric = IoUMetric(ignore_index=65535)
    metric.dataset_meta = ds.metainfo
    inter = np.zeros(847)
    union = np.zeros(847)
    for i, name in enumerate(sorted(labels)):
        sample = ds[i]['data_samples']
        gt = sample.gt_sem_seg.data[0]
        np.testing.assert_array_equal(gt.numpy(), labels[name])
        # a prediction right everywhere but in one column (class 12)
        pred = torch.where(gt == 65535, torch.zeros_like(gt), gt)
        pred[:, 9] = 12
        metric.process({}, [
            dict(
                pred_sem_seg=dict(data=pred[None]),
                gt_sem_seg=dict(data=gt[None]))
        ])
        # hand computation over the labelled pixels
        g, p = labels[name].astype(np.int64), pred.numpy()
        keep = g != 65535
        for c in range(847):
            inter[c] += ((g == c) & (p == c) & keep).sum()
            union[c] += (((g == c) | (p == c)) & keep).sum()
    present = union > 0
    expected = 100 * np.mean(inter[present] / union[present])
    result = metric.compute_metrics(metric.results)
    assert result['mIoU'] == pytest.approx(round(expected, 2))
    assert set(np.flatnonzero(present)) == {0, 12, 300, 511, 846}


def test_mmseg_loader_would_corrupt_the_labels(tmp_path):
    labels = _labels()
    write_seg_set(tmp_path, 'ade20k_847', labels)
    ours = _build(tmp_path)[0]['data_samples'].gt_sem_seg.data[0]
    theirs = _build(
        tmp_path,
        _pipeline('LoadAnnotations'))[0]['data_samples'].gt_sem_seg.data[0]
    a = labels['ADE_val_00000001']
    np.testing.assert_array_equal(ours.numpy(), a)
    np.testing.assert_array_equal(theirs.numpy(), a % 256)
    assert sorted(theirs.unique().tolist()) == [0, 44, 78, 255]


def test_missing_folders_are_named(tmp_path):
    write_seg_set(tmp_path, 'ade20k_847', _labels())
    with pytest.raises(FileNotFoundError, match=r"img_path.*nowhere.*ade20k"):
        _build(
            tmp_path, data_prefix=dict(img_path='nowhere', seg_map_path='x'))
    with pytest.raises(
            FileNotFoundError, match=r"seg_map_path.*'.*/nolabels'"):
        _build(
            tmp_path,
            data_prefix=dict(
                img_path=LAYOUTS['ade20k_847']['img_path'],
                seg_map_path='nolabels'))


def test_empty_label_folder_is_named(tmp_path):
    write_seg_set(tmp_path, 'ade20k_847', _labels())
    (tmp_path / 'empty').mkdir()
    with pytest.raises(ValueError, match=r"no label files ending in '.tif'"):
        _build(
            tmp_path,
            data_prefix=dict(
                img_path=LAYOUTS['ade20k_847']['img_path'],
                seg_map_path='empty'))


def test_label_without_image_is_named(tmp_path):
    write_seg_set(tmp_path, 'ade20k_847', _labels())
    (tmp_path / LAYOUTS['ade20k_847']['img_path'] /
     'ADE_val_00000002.jpg').unlink()
    with pytest.raises(FileNotFoundError, match=r'ADE_val_00000002\.jpg'):
        _build(tmp_path)


def test_class_subsets_are_refused(tmp_path):
    write_seg_set(tmp_path, 'ade20k_847', _labels())
    classes = get_class_names('ade847')
    with pytest.raises(ValueError, match='ADE20K847Dataset scores all'):
        _build(tmp_path, metainfo=dict(classes=classes[:10]))
    # the whole list, in order, is accepted
    assert len(_build(tmp_path, metainfo=dict(classes=classes))) == 2


def test_split_file_is_checked(tmp_path):
    write_seg_set(tmp_path, 'ade20k_847', _labels())
    with pytest.raises(FileNotFoundError, match=r'ann_file.*val\.txt'):
        _build(tmp_path, ann_file='val.txt')
    (tmp_path / 'val.txt').write_text('ADE_val_00000002\n')
    ds = _build(tmp_path, ann_file='val.txt')
    assert len(ds) == 1
    assert ds.get_data_info(0)['img_path'].endswith('ADE_val_00000002.jpg')


def test_base_class_takes_any_class_list(tmp_path):
    write_seg_set(tmp_path, 'ade20k_847', _labels())
    with DefaultScope.overwrite_default_scope('mmseg'):
        ds = DATASETS.build(
            dict(
                type='mmclipself.LabelFolderSegDataset',
                data_root=str(tmp_path),
                data_prefix=dict(
                    img_path=LAYOUTS['ade20k_847']['img_path'],
                    seg_map_path=LAYOUTS['ade20k_847']['seg_map_path']),
                seg_map_suffix='.tif',
                metainfo=dict(classes=('a', 'b')),
                test_mode=True))
    assert isinstance(ds, LabelFolderSegDataset)
    assert ds.metainfo['classes'] == ('a', 'b') and len(ds) == 2
