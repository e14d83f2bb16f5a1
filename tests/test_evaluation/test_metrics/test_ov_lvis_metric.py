# Copyright (c) mmclipself contributors. All rights reserved.
import json

import numpy as np
import pytest
import torch
from mmdet.evaluation import LVISMetric
from mmdet.evaluation.metrics import lvis_metric

from mmclipself.evaluation import OVLVISMetric
from mmclipself.registry import METRICS
from mmclipself.utils.lvis_compat import numpy_float_alias

# (id, LVIS v1 name); the frequencies are set per test in the json
CATS = [(1, 'aerosol_can'), (2, 'air_conditioner'), (3, 'airplane'),
        (4, 'alarm_clock'), (5, 'alcohol')]
CLASSES = tuple(n for _, n in CATS)
RARE = ('airplane', 'alarm_clock', 'alcohol')
H = W = 100

# image id -> [(category name, (x, y, w, h))]
GTS = {
    1: [('aerosol_can', (10, 10, 40, 40)), ('alarm_clock', (60, 60, 30, 30))],
    2: [('airplane', (5, 5, 50, 50))],
    3: [('air_conditioner', (10, 10, 20, 20)),
        ('air_conditioner', (50, 50, 30, 30))],
}
# image id -> [(category name, (x, y, w, h), score)]
PREDS = {
    # aerosol_can exact; alarm_clock shifted: IoU 400/1400 < 0.5
    1: [('aerosol_can', (10, 10, 40, 40), 0.9),
        ('alarm_clock', (70, 70, 30, 30), 0.8)],
    # airplane exact; alcohol (in the image's negative list, no gt anywhere)
    2: [('airplane', (5, 5, 50, 50), 0.9), ('alcohol', (60, 60, 30, 30), 0.7)],
    # one of the two air conditioners, exact
    3: [('air_conditioner', (10, 10, 20, 20), 0.9)],
}
# AP50 per category (101 recall points): aerosol_can, airplane 1;
# alarm_clock 0; air_conditioner 51/101 (precision 1 up to recall 0.5);
# alcohol: no gt -> excluded
AP50 = dict(
    aerosol_can=1.0, air_conditioner=51 / 101, airplane=1.0, alarm_clock=0.0)


def _rect_polygon(box):
    x, y, w, h = box
    return [[x, y, x + w, y, x + w, y + h, x, y + h]]


def _write_gt(path, rare=RARE):
    ids = {n: i for i, n in CATS}
    images, anns = [], []
    for img_id, objs in GTS.items():
        images.append(
            dict(
                id=img_id,
                height=H,
                width=W,
                coco_url=f'http://images.cocodataset.org/val2017/'
                f'{img_id:012d}.jpg',
                neg_category_ids=[ids['alcohol']] if img_id == 2 else [],
                not_exhaustive_category_ids=[]))
        for name, box in objs:
            anns.append(
                dict(
                    id=len(anns) + 1,
                    image_id=img_id,
                    category_id=ids[name],
                    bbox=list(box),
                    area=box[2] * box[3],
                    segmentation=_rect_polygon(box)))
    cats = [
        dict(
            id=i,
            name=n,
            synset=f'{n}.n.01',
            frequency='r' if n in rare else 'f',
            image_count=sum(any(o[0] == n for o in v) for v in GTS.values()),
            instance_count=sum(o[0] == n for v in GTS.values() for o in v))
        for i, n in CATS
    ]
    with open(path, 'w') as f:
        json.dump(dict(images=images, annotations=anns, categories=cats), f)
    return str(path)


def _samples(with_masks=False, extra_on_img3=0):
    samples = []
    for img_id, objs in PREDS.items():
        objs = list(objs)
        if img_id == 3:
            # high-scored detections of a category without gt information
            # on image 3 (ignored by LVISEval, but they count for the
            # per-image cap applied before)
            objs += [('aerosol_can', (60, 0, 10, 10), 0.95)] * extra_on_img3
        boxes = torch.tensor([[x, y, x + w, y + h]
                              for _, (x, y, w, h), _ in objs]).float()
        pred = dict(
            bboxes=boxes,
            scores=torch.tensor([s for _, _, s in objs]),
            labels=torch.tensor([CLASSES.index(n) for n, _, _ in objs]))
        if with_masks:
            masks = torch.zeros(len(objs), H, W, dtype=torch.bool)
            for i, (_, (x, y, w, h), _) in enumerate(objs):
                masks[i, y:y + h, x:x + w] = True
            pred['masks'] = masks
        samples.append(
            dict(img_id=img_id, ori_shape=(H, W), pred_instances=pred))
    return samples


def _evaluate(metric, **kwargs):
    metric.dataset_meta = dict(classes=CLASSES)
    metric.process({}, _samples(**kwargs))
    return metric.evaluate(len(PREDS))


def _mean(names):
    return float(np.mean([AP50[n] for n in names]))


def test_bbox_and_segm_keys_and_values(tmp_path):
    metric = METRICS.build(
        dict(
            type='OVLVISMetric',
            ann_file=_write_gt(tmp_path / 'lvis.json'),
            metric=['bbox', 'segm'],
            novel_base_ap50=True))
    assert isinstance(metric, OVLVISMetric)
    res = _evaluate(metric, with_masks=True)
    standard = ['AP', 'AP50', 'AP75', 'APs', 'APm', 'APl', 'APr', 'APc', 'APf']
    assert set(res) == {
        f'lvis/{m}_{k}'
        for m in ('bbox', 'segm')
        for k in standard + ['novel_ap50', 'base_ap50']
    }
    for m in ('bbox', 'segm'):
        assert res[f'lvis/{m}_novel_ap50'] == pytest.approx(
            _mean(['airplane', 'alarm_clock']), abs=1e-6)  # 0.5
        assert res[f'lvis/{m}_base_ap50'] == pytest.approx(
            _mean(['aerosol_can', 'air_conditioner']), abs=1e-6)
    # agrees with LVISMetric's (rounded) AP50 over all categories
    assert res['lvis/bbox_AP50'] == round(_mean(AP50), 3)
    # exact boxes / missed: APr over IoU 0.5:0.95 equals the rare AP50 here
    assert res['lvis/bbox_APr'] == 0.5
    # mmdet's metric module is left as it is
    assert lvis_metric.LVISEval.__module__ == 'lvis.eval'


@pytest.mark.parametrize('metric_types', [['bbox'], ['bbox', 'segm']])
def test_default_keys_are_exactly_lvis_metric_ones(tmp_path, metric_types):
    ann_file = _write_gt(tmp_path / 'lvis.json')
    res = _evaluate(
        OVLVISMetric(ann_file=ann_file, metric=metric_types), with_masks=True)
    with numpy_float_alias():  # stock LVISMetric needs np.float (lvis 0.5.3)
        stock = _evaluate(
            LVISMetric(ann_file=ann_file, metric=metric_types),
            with_masks=True)
    assert res == stock
    assert len(res) == 9 * len(metric_types)


def test_evaluates_without_leaving_np_float(tmp_path):
    assert not hasattr(np, 'float')
    metric = OVLVISMetric(
        ann_file=_write_gt(tmp_path / 'lvis.json'), novel_base_ap50=True)
    res = _evaluate(metric)
    assert res['lvis/bbox_AP50'] == round(_mean(AP50), 3)
    assert not hasattr(np, 'float')


def test_novel_split_is_read_from_gt_frequency(tmp_path):
    metric = OVLVISMetric(
        ann_file=_write_gt(tmp_path / 'lvis.json', rare=('alarm_clock', )),
        novel_base_ap50=True)
    res = _evaluate(metric)
    assert res['lvis/bbox_novel_ap50'] == pytest.approx(0.0, abs=1e-6)
    assert res['lvis/bbox_base_ap50'] == pytest.approx(
        _mean(['aerosol_can', 'air_conditioner', 'airplane']), abs=1e-6)
    # no rare category with gt -> NaN, base over all
    metric = OVLVISMetric(
        ann_file=_write_gt(tmp_path / 'lvis2.json', rare=('alcohol', )),
        prefix='ovlvis',
        novel_base_ap50=True)
    res = _evaluate(metric)
    assert np.isnan(res['ovlvis/bbox_novel_ap50'])
    assert res['ovlvis/bbox_base_ap50'] == pytest.approx(_mean(AP50), abs=1e-6)


@pytest.mark.parametrize('extra,conditioner_ap', [(299, 51 / 101), (300, 0.0)])
def test_300_detections_per_image(tmp_path, extra, conditioner_ap):
    # 300 higher-scored detections push the air conditioner out of image 3
    metric = OVLVISMetric(
        ann_file=_write_gt(tmp_path / 'lvis.json'), novel_base_ap50=True)
    res = _evaluate(metric, extra_on_img3=extra)
    assert res['lvis/bbox_base_ap50'] == pytest.approx(
        (1 + conditioner_ap) / 2, abs=1e-6)


def test_no_detections_gives_no_split_keys(tmp_path):
    metric = OVLVISMetric(
        ann_file=_write_gt(tmp_path / 'lvis.json'), novel_base_ap50=True)
    metric.dataset_meta = dict(classes=CLASSES)
    samples = _samples()
    for sample in samples:
        pred = sample['pred_instances']
        pred.update(
            bboxes=pred['bboxes'][:0],
            scores=pred['scores'][:0],
            labels=pred['labels'][:0])
    metric.process({}, samples)
    assert metric.evaluate(len(PREDS)) == {}
    assert not hasattr(np, 'float')
