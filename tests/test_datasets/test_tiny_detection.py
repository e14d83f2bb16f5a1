# Copyright (c) mmclipself contributors. All rights reserved.
"""The tiny COCO / LVIS writers produce files mmdet loads and evaluates."""
import numpy as np
import pytest
import torch
from mmcv.transforms import LoadImageFromFile

from mmclipself.testing.detection import (IMAGES, LVIS_CATEGORIES, SIZES,
                                          write_tiny_coco, write_tiny_lvis)
from mmclipself.vocab import get_class_names


def _pipeline():
    from mmdet.datasets.transforms import LoadAnnotations
    return [
        LoadImageFromFile(),
        LoadAnnotations(with_bbox=True, with_mask=True)
    ]


def _coco_dataset(info, **kwargs):
    from mmdet.datasets import CocoDataset
    return CocoDataset(
        data_root=info['data_root'],
        ann_file=info['ann_file'],
        data_prefix=info['data_prefix'],
        pipeline=_pipeline(),
        test_mode=True,
        **kwargs)


def _lvis_dataset(info, **kwargs):
    from mmdet.datasets import LVISV1Dataset
    return LVISV1Dataset(
        data_root=info['data_root'],
        ann_file=info['ann_file'],
        data_prefix=info['data_prefix'],
        pipeline=_pipeline(),
        test_mode=True,
        **kwargs)


def _xyxy(box):
    x, y, w, h = box
    return [x, y, x + w, y + h]


def _gt_as_predictions(ds, drop_label=None):
    """Data samples whose predictions are the loaded ground truth."""
    samples = []
    for i in range(len(ds)):
        r = ds[i]
        labels = torch.as_tensor(r['gt_bboxes_labels']).long()
        keep = labels != (-1 if drop_label is None else drop_label)
        masks = torch.from_numpy(r['gt_masks'].masks.astype(bool))
        samples.append(
            dict(
                img_id=r['img_id'],
                ori_shape=r['ori_shape'],
                pred_instances=dict(
                    bboxes=r['gt_bboxes'].tensor[keep],
                    scores=torch.ones(int(keep.sum())),
                    labels=labels[keep],
                    masks=masks[keep])))
    return samples


def _evaluate(metric, ds, samples):
    metric.dataset_meta = ds.metainfo
    metric.process({}, samples)
    return metric.evaluate(size=len(samples))


def test_coco_dataset_loads_boxes_and_masks(tmp_path):
    info = write_tiny_coco(tmp_path, 'val')
    assert info['img_prefix'] == 'images/'
    ds = _coco_dataset(info)
    classes = ds.metainfo['classes']
    assert len(ds) == 3
    for i, (img_id, photo, objects) in enumerate(IMAGES):
        r = ds[i]
        assert r['img_id'] == img_id and r['img_path'].endswith(photo)
        assert r['img'].shape == (SIZES[img_id][1], SIZES[img_id][0], 3)
        assert r['gt_bboxes'].tensor.tolist() == [_xyxy(b) for _, b in objects]
        assert [classes[k]
                for k in r['gt_bboxes_labels']] == [n for n, _ in objects]
        # octagons: 7/8 of the box (up to the rasteriser's rounding)
        areas = np.array([7 / 8 * b[2] * b[3] for _, b in objects])
        assert np.allclose(r['gt_masks'].areas, areas, rtol=1e-3)
    # at least one novel and two base classes of OV-COCO are annotated
    names = {n for _, _, objs in IMAGES for n, _ in objs}
    assert len(names & set(get_class_names('coco48'))) >= 2
    assert len(names & set(get_class_names('coco17'))) >= 1


def test_coco_metric_gives_ap_1_for_ground_truth(tmp_path):
    from mmdet.evaluation import CocoMetric
    info = write_tiny_coco(tmp_path, 'val')
    ds = _coco_dataset(info)
    res = _evaluate(
        CocoMetric(ann_file=info['ann_file'], metric=['bbox', 'segm']), ds,
        _gt_as_predictions(ds))
    assert res['coco/bbox_mAP'] == 1.0 and res['coco/segm_mAP'] == 1.0
    # and it can fail: missing the cat is AP 0 for 1 of the 4 classes
    cat = ds.metainfo['classes'].index('cat')
    res = _evaluate(
        CocoMetric(ann_file=info['ann_file'], metric='bbox'), ds,
        _gt_as_predictions(ds, drop_label=cat))
    assert res['coco/bbox_mAP'] == pytest.approx(0.75)


def test_lvis_dataset_with_small_vocabulary(tmp_path):
    info = write_tiny_lvis(tmp_path, 'train')
    assert info['classes'] == ('cat', 'cup', 'person', 'saucer', 'spoon')
    assert (tmp_path / 'train2017' / '000000000001.jpg').is_file()
    ds = _lvis_dataset(info, metainfo=dict(classes=info['classes']))
    assert ds.metainfo['classes'] == info['classes']
    r = ds[1]
    assert r['img_path'].endswith('train2017/000000000002.jpg')
    assert r['img'].shape == (400, 600, 3)
    assert r['gt_bboxes'].tensor.tolist() == [[168, 16, 408, 304],
                                              [324, 64, 424, 328],
                                              [76, 72, 480, 388]]
    assert [info['classes'][k]
            for k in r['gt_bboxes_labels']] == ['cup', 'spoon', 'saucer']
    assert len(r['gt_masks']) == 3
    freq = {c['name']: c['frequency'] for c in LVIS_CATEGORIES}
    assert freq['cat'] == 'r' and set(freq.values()) == {'r', 'c', 'f'}


def test_lvis_metric_gives_ap_1_for_ground_truth(tmp_path, monkeypatch):
    from mmdet.evaluation import LVISMetric

    # lvis==0.5.3 (PyPI) still calls ``np.float``, removed in numpy 1.24
    # (fixed in lvis-api's main branch, lvis-dataset/lvis-api#37)
    monkeypatch.setattr(np, 'float', float, raising=False)
    info = write_tiny_lvis(tmp_path, 'val')
    ds = _lvis_dataset(info, metainfo=dict(classes=info['classes']))
    res = _evaluate(
        LVISMetric(ann_file=info['ann_file'], metric=['bbox', 'segm']), ds,
        _gt_as_predictions(ds))
    for k in ('bbox_AP', 'bbox_APr', 'bbox_APc', 'bbox_APf', 'segm_AP'):
        assert res[f'lvis/{k}'] == 1.0, k
    res = _evaluate(
        LVISMetric(ann_file=info['ann_file'], metric='bbox'), ds,
        _gt_as_predictions(ds, drop_label=info['classes'].index('cat')))
    assert res['lvis/bbox_APr'] == 0.0 and res['lvis/bbox_APf'] == 1.0


def test_lvis_dataset_with_all_1203_categories(tmp_path):
    from mmdet.datasets import LVISV1Dataset
    info = write_tiny_lvis(tmp_path, 'val', all_categories=True)
    assert info['classes'] == LVISV1Dataset.METAINFO['classes']
    ds = _lvis_dataset(info)
    r = ds[0]
    assert r['img_path'].endswith('val2017/000000000001.jpg')
    assert ds.metainfo['classes'][r['gt_bboxes_labels'][0]] == 'cat'
    assert r['gt_bboxes'].tensor.tolist() == [[0, 0, 400, 300]]
