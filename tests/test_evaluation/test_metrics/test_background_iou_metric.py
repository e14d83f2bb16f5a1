# Copyright (c) mmclipself contributors. All rights reserved.
import numpy as np
import pytest
import torch
from mmengine.evaluator import Evaluator
from mmseg.evaluation import IoUMetric

from mmclipself.evaluation import BackgroundIoUMetric
from mmclipself.registry import METRICS
from mmclipself.vocab import get_class_names

VOC20B = get_class_names('voc20') + ('background', )


def _hand_miou(preds, gts, num_classes=21, ignore=255):
    """mIoU / mAcc of a confusion matrix, predictions >= 20 -> 20."""
    conf = np.zeros((num_classes, num_classes), np.int64)
    for p, g in zip(preds, gts):
        p = np.minimum(p, 20)
        keep = g != ignore
        for a, b in zip(g[keep], p[keep]):
            conf[a, b] += 1
    tp = np.diag(conf)
    gt_area, pred_area = conf.sum(1), conf.sum(0)
    union = gt_area + pred_area - tp
    iou = tp[union > 0] / union[union > 0]
    acc = tp[gt_area > 0] / gt_area[gt_area > 0]
    return 100 * iou.mean(), 100 * acc.mean()


def _samples():
    rng = np.random.default_rng(0)
    gts = [rng.integers(0, 21, (6, 7)), rng.integers(0, 21, (5, 4))]
    gts[0][0, :3] = 255
    # predictions over the 59 classes of the VOC-20b vocabulary
    preds = [rng.integers(0, 59, g.shape) for g in gts]
    preds[1][:2] = gts[1][:2]  # some right, incl. background 20
    return preds, gts


def _data_samples(preds, gts):
    return [
        dict(
            pred_sem_seg=dict(data=torch.from_numpy(p)[None]),
            gt_sem_seg=dict(data=torch.from_numpy(g)[None]))
        for p, g in zip(preds, gts)
    ]


def test_equals_hand_computation():
    preds, gts = _samples()
    metric = METRICS.build(dict(type='mmclipself.BackgroundIoUMetric'))
    assert isinstance(metric, BackgroundIoUMetric)
    metric.dataset_meta = dict(classes=VOC20B)
    metric.process({}, _data_samples(preds, gts))
    result = metric.compute_metrics(metric.results)
    miou, macc = _hand_miou(preds, gts)
    assert result['mIoU'] == pytest.approx(round(miou, 2))
    assert result['mAcc'] == pytest.approx(round(macc, 2))
    # without the mapping the predictions past 20 fall out of mmseg's
    # 21 bins: another (lower) score
    plain = IoUMetric()
    plain.dataset_meta = dict(classes=VOC20B)
    plain.process({}, _data_samples(preds, gts))
    assert plain.compute_metrics(plain.results)['mIoU'] < result['mIoU']


def test_other_metrics_see_the_predictions_unchanged():
    preds, gts = _samples()
    evaluator = Evaluator([
        dict(type='mmclipself.BackgroundIoUMetric', prefix='b'),
        dict(type='IoUMetric', _scope_='mmseg', prefix='p')
    ])
    evaluator.dataset_meta = dict(classes=VOC20B)
    samples = _data_samples(preds, gts)
    evaluator.process(samples)
    assert samples[0]['pred_sem_seg']['data'].max() > 20
    result = evaluator.evaluate(len(samples))
    assert result['b/mIoU'] == pytest.approx(
        round(_hand_miou(preds, gts)[0], 2))
    assert result['p/mIoU'] < result['b/mIoU']


def test_dataset_without_last_background_is_refused():
    preds, gts = _samples()
    metric = BackgroundIoUMetric()
    metric.dataset_meta = dict(classes=('background', ) + VOC20B[:-1])
    with pytest.raises(ValueError, match="last class must be 'background'"):
        metric.process({}, _data_samples(preds, gts))
