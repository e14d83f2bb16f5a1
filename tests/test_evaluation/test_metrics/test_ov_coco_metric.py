# Copyright (c) mmclipself contributors. All rights reserved.
import json

import numpy as np
import pytest
import torch
from mmdet.datasets.api_wrappers import COCOeval, COCOevalMP
from mmdet.evaluation import CocoMetric
from mmdet.evaluation.metrics import coco_metric
from mmengine.registry import init_default_scope

from mmclipself.evaluation import OVCocoMetric
from mmclipself.registry import METRICS
from mmclipself.vocab import get_class_names

# json order == class order, so label i is category CLASSES[i]
CATS = [(1, 'person'), (3, 'car'), (6, 'bus'), (17, 'cat'), (18, 'dog')]
CLASSES = tuple(n for _, n in CATS)
BASE = ['person', 'car']
NOVEL = ['bus', 'cat', 'dog']
H = W = 100

# image id -> [(category name, (x, y, w, h))]
GTS = {
    1: [('person', (10, 10, 40, 40)), ('cat', (60, 60, 30, 30))],
    2: [('person', (5, 5, 50, 50)), ('dog', (50, 10, 40, 40))],
    3: [('car', (10, 10, 20, 20)), ('car', (50, 50, 30, 30))],
}
# image id -> [(category name, (x, y, w, h), score)]
PREDS = {
    # person exact; cat shifted by 20 px in x and y: IoU 400/1400 < 0.5
    1: [('person', (10, 10, 40, 40), 0.9), ('cat', (70, 70, 30, 30), 0.8)],
    # person, dog exact; a bus where there is no bus gt anywhere
    2: [('person', (5, 5, 50, 50), 0.9), ('dog', (50, 10, 40, 40), 0.7),
        ('bus', (0, 60, 30, 30), 0.6)],
    # one of the two cars, exact
    3: [('car', (10, 10, 20, 20), 0.9)],
}
# AP50 per class (101 recall points of pycocotools): person, dog: 1; cat: 0;
# car: precision 1 up to recall 0.5 (51 of the 101 points), then 0; bus: no
# gt -> excluded.
CAR_AP = 51 / 101
BASE_AP50 = (1 + CAR_AP) / 2
NOVEL_AP50 = (0 + 1) / 2
ALL_AP50 = (1 + CAR_AP + 0 + 1) / 4


def _rect_polygon(box):
    x, y, w, h = box
    return [[x, y, x + w, y, x + w, y + h, x, y + h]]


def _write_gt(path):
    images, anns = [], []
    for img_id, objs in GTS.items():
        images.append(
            dict(id=img_id, file_name=f'{img_id}.jpg', height=H, width=W))
        for name, box in objs:
            anns.append(
                dict(
                    id=len(anns) + 1,
                    image_id=img_id,
                    category_id=dict((n, i) for i, n in CATS)[name],
                    bbox=list(box),
                    area=box[2] * box[3],
                    segmentation=_rect_polygon(box),
                    iscrowd=0))
    cats = [dict(id=i, name=n, supercategory='x') for i, n in CATS]
    with open(path, 'w') as f:
        json.dump(dict(images=images, annotations=anns, categories=cats), f)
    return str(path)


def _samples(with_masks=False):
    samples = []
    for img_id, objs in PREDS.items():
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


def _evaluate(metric, with_masks=False):
    metric.dataset_meta = dict(classes=CLASSES)
    metric.process({}, _samples(with_masks))
    return metric.evaluate(len(PREDS))


def test_split_names_are_real_ov_coco_classes():
    assert set(BASE) <= set(get_class_names('coco48'))
    assert set(NOVEL) <= set(get_class_names('coco17'))


def test_bbox_novel_base_all_ap50(tmp_path):
    metric = OVCocoMetric(
        ann_file=_write_gt(tmp_path / 'gt.json'),
        novel_classes=NOVEL,
        base_classes=BASE)
    assert metric.proposal_nums == [100, 300, 1000]
    res = _evaluate(metric)
    standard = ['mAP', 'mAP_50', 'mAP_75', 'mAP_s', 'mAP_m', 'mAP_l']
    assert set(res) == {
        f'coco/bbox_{k}'
        for k in standard
    } | {'coco/bbox_novel_ap50', 'coco/bbox_base_ap50', 'coco/bbox_all_ap50'}
    assert res['coco/bbox_base_ap50'] == pytest.approx(BASE_AP50, abs=1e-6)
    assert res['coco/bbox_novel_ap50'] == pytest.approx(NOVEL_AP50, abs=1e-6)
    assert res['coco/bbox_all_ap50'] == pytest.approx(ALL_AP50, abs=1e-6)
    # agrees with CocoMetric's own mAP_50 (at maxDets[2] = 1000, rounded)
    assert res['coco/bbox_mAP_50'] == round(ALL_AP50, 3)
    # mmdet's metric module is left as it is
    assert coco_metric.COCOeval is COCOeval
    assert coco_metric.COCOevalMP is COCOevalMP


def test_same_standard_metrics_as_coco_metric(tmp_path):
    ann_file = _write_gt(tmp_path / 'gt.json')
    res = _evaluate(
        OVCocoMetric(
            ann_file=ann_file, novel_classes=NOVEL, base_classes=BASE))
    stock = _evaluate(CocoMetric(ann_file=ann_file))
    assert {k: res[k] for k in stock} == stock


def _samples_with_gt():
    """``_samples()`` carrying their gt, for ``ann_file=None``."""
    samples = _samples()
    for sample in samples:
        sample['instances'] = [
            dict(
                bbox=[x, y, x + w, y + h],
                bbox_label=CLASSES.index(name),
                ignore_flag=0) for name, (x, y, w, h) in GTS[sample['img_id']]
        ]
    return samples


def test_gt_from_data_samples_without_ann_file():
    # CocoMetric converts the gts to a coco json when ann_file is None
    metric = OVCocoMetric(novel_classes=NOVEL, base_classes=BASE)
    metric.dataset_meta = dict(classes=CLASSES)
    metric.process({}, _samples_with_gt())
    res = metric.evaluate(len(PREDS))
    assert res['coco/bbox_base_ap50'] == pytest.approx(BASE_AP50, abs=1e-6)
    assert res['coco/bbox_novel_ap50'] == pytest.approx(NOVEL_AP50, abs=1e-6)
    assert res['coco/bbox_all_ap50'] == pytest.approx(ALL_AP50, abs=1e-6)


def test_no_detections_gives_no_split_keys(tmp_path):
    metric = OVCocoMetric(
        ann_file=_write_gt(tmp_path / 'gt.json'),
        novel_classes=NOVEL,
        base_classes=BASE)
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


def test_segm_and_bbox_from_registry(tmp_path):
    init_default_scope('mmclipself')
    metric = METRICS.build(
        dict(
            type='OVCocoMetric',
            ann_file=_write_gt(tmp_path / 'gt.json'),
            metric=['bbox', 'segm'],
            novel_classes=NOVEL,
            base_classes=BASE,
            prefix='ovcoco'))
    assert isinstance(metric, OVCocoMetric)
    res = _evaluate(metric, with_masks=True)
    for m in ('bbox', 'segm'):
        assert f'ovcoco/{m}_mAP' in res
        assert res[f'ovcoco/{m}_base_ap50'] == pytest.approx(
            BASE_AP50, abs=1e-6)
        assert res[f'ovcoco/{m}_novel_ap50'] == pytest.approx(
            NOVEL_AP50, abs=1e-6)
        assert res[f'ovcoco/{m}_all_ap50'] == pytest.approx(ALL_AP50, abs=1e-6)


def _samples_with_car_fp():
    """``_samples()`` plus a top-scored car false positive on image 3."""
    samples = _samples()
    pred = samples[2]['pred_instances']
    pred['bboxes'] = torch.cat(
        [torch.tensor([[60., 0., 80., 20.]]), pred['bboxes']])
    pred['scores'] = torch.cat([torch.tensor([0.95]), pred['scores']])
    pred['labels'] = torch.cat([torch.tensor([1]), pred['labels']])
    return samples


@pytest.mark.parametrize(
    'proposal_nums,car_ap',
    [
        # all detections: FP then TP -> precision 0.5 up to recall 0.5
        ((100, 300, 1000), 0.5 * 51 / 101),
        # the largest entry is used, not 1
        ((1, 1, 1000), 0.5 * 51 / 101),
        # pycocotools applies maxDets per image and category: with 1 only the
        # top-scored car, the FP, is kept
        ((1, 1, 1), 0.0),
    ])
def test_last_max_dets_entry_is_used(tmp_path, proposal_nums, car_ap):
    metric = OVCocoMetric(
        ann_file=_write_gt(tmp_path / 'gt.json'),
        novel_classes=NOVEL,
        base_classes=BASE,
        proposal_nums=proposal_nums)
    metric.dataset_meta = dict(classes=CLASSES)
    metric.process({}, _samples_with_car_fp())
    res = metric.evaluate(len(PREDS))
    assert res['coco/bbox_base_ap50'] == pytest.approx(
        (1 + car_ap) / 2, abs=1e-6)
    assert res['coco/bbox_novel_ap50'] == pytest.approx(NOVEL_AP50, abs=1e-6)


def test_vocabulary_defaults_resolve():
    metric = OVCocoMetric()
    assert metric.novel_classes == tuple(get_class_names('coco17'))
    assert metric.base_classes == tuple(get_class_names('coco48'))
    # the 65 OV-COCO classes are accepted
    metric.dataset_meta = dict(classes=get_class_names('coco65'))


def test_unknown_class_names_raise(tmp_path):
    metric = OVCocoMetric(
        ann_file=_write_gt(tmp_path / 'gt.json'),
        novel_classes=['cat', 'unicorn'],
        base_classes=['person', 'spaceship'])
    with pytest.raises(ValueError, match=r"unicorn.*spaceship"):
        metric.dataset_meta = dict(classes=CLASSES)
    # the defaults (17 novel / 48 base) are not all in a 5-class dataset
    with pytest.raises(ValueError, match='not among'):
        OVCocoMetric().dataset_meta = dict(classes=CLASSES)


def test_invalid_configs_raise():
    with pytest.raises(ValueError, match='both novel and base'):
        OVCocoMetric(novel_classes=['cat'], base_classes=['cat', 'person'])
    with pytest.raises(ValueError, match='IoU 0.5'):
        OVCocoMetric(iou_thrs=np.array([0.75]))
