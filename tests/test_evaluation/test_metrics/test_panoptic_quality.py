# Copyright (c) mmclipself contributors. All rights reserved.
"""The PQ route: MMDetection's CocoPanopticMetric through panopticapi.

A toy image in COCO panoptic format (PNG + json) with hand-made segments
and a prediction with known matches. The expected PQ/SQ/RQ are computed
here from the definition (Kirillov et al. 2019; segmentation facts §4):
a prediction matches a ground-truth segment of its class at IoU > 0.5,
void pixels (id 0) leave the union, crowd regions are never matched, and an
unmatched prediction with more than half of its area in void or in a crowd
region of its own class is not a false positive.
"""
import numpy as np
import pytest
import torch
from mmdet.evaluation.metrics import CocoPanopticMetric

from mmclipself.testing.panoptic import photo, write_panoptic_json_set

# label order of the metric (dataset_meta) = the json's category order
CLASSES = ('cat', 'cup', 'table-merged', 'wall-other-merged')
CATEGORIES = [
    dict(id=17, name='cat', isthing=1),
    dict(id=47, name='cup', isthing=1),
    dict(id=189, name='table-merged', isthing=0),
    dict(id=199, name='wall-other-merged', isthing=0),
]
CAT, CUP, TABLE, WALL, VOID = 0, 1, 2, 3, 4
OFFSET = 1000  # MMDetection's INSTANCE_OFFSET: thing id = label + k * 1000
H, W = 40, 60


def _rects(rects, fill):
    out = np.full((H, W), fill, np.int64)
    for value, (y1, y2, x1, x2) in rects:
        out[y1:y2, x1:x2] = value
    return out


# ground truth: two cats, a crowd of cups, wall and table; the rest void
GT = _rects(
    [
        (1, (0, 20, 0, 20)),  # cat, 400 px
        (2, (0, 20, 20, 30)),  # cat, 200 px
        (3, (20, 40, 0, 20)),  # cup crowd, 400 px
        (4, (0, 20, 30, 60)),  # wall, 600 px
        (5, (20, 40, 20, 50)),  # table, 600 px; (20:40, 50:60) is void
    ],
    0)
GT_SEGMENTS = [(1, 17, 0), (2, 17, 0), (3, 47, 1), (4, 199, 0), (5, 189, 0)]
# prediction in MMDetection's format; unassigned pixels are VOID (= 4)
PRED = _rects(
    [
        (CAT + OFFSET, (0, 20, 0, 15)),  # p1: cat
        (CAT + 2 * OFFSET, (0, 20, 15, 30)),  # p2: cat
        (CUP + OFFSET, (20, 40, 0, 10)),  # p3: cup inside the cup crowd
        (CAT + 3 * OFFSET, (20, 40, 10, 20)),  # p4: cat inside the cup crowd
        (WALL, (0, 10, 30, 60)),  # p5: wall, upper half of the wall
        (CUP + 2 * OFFSET, (10, 20, 30, 55)),  # p6: cup on the wall
        (CUP + 3 * OFFSET, (15, 40, 55, 60)),  # p8: cup, mostly on void
        (TABLE, (20, 40, 20, 55)),  # p7: table, over the void
    ],
    VOID)

# By hand, per class: IoUs of the matches, FP, FN.
# cat:   p1-g1 300 / (300 + 400 - 300) = 3/4; p2-g2 200 / (300 + 200 -
#        200) = 2/3 (p2-g1: 1/6); p4 lies in a crowd of cups, not of cats:
#        FP. -> TP 2, FP 1, FN 0
# cup:   the crowd is never matched nor missed; p3 lies in it (ignored);
#        p8 has 100 of 125 px on void (ignored); p6 on the wall: FP.
#        -> TP 0, FP 1, FN 0
# table: p7-g5 600 / (700 + 600 - 600 - 100 void) = 1. -> TP 1
# wall:  p5-g4 300 / 600 = 0.5 is not > 0.5: FP and FN. -> FP 1, FN 1
HAND = {
    CAT: ([3 / 4, 2 / 3], 1, 0),
    CUP: ([], 1, 0),
    TABLE: ([1.0], 0, 0),
    WALL: ([], 1, 1),
}


def _hand_pq(labels):
    pq, sq, rq = [], [], []
    for label in labels:
        ious, fp, fn = HAND[label]
        tp = len(ious)
        denominator = tp + fp / 2 + fn / 2
        pq.append(sum(ious) / denominator)
        sq.append(sum(ious) / tp if tp else 0.0)
        rq.append(tp / denominator)
    return [100 * float(np.mean(v)) for v in (pq, sq, rq)]


def _write(root):
    write_panoptic_json_set(root, 'images', 'pan', 'pan.json', CATEGORIES, [
        dict(
            image_id=7,
            file_name='toy.jpg',
            image=photo('chelsea')[:H, :W],
            ids=GT,
            segments=GT_SEGMENTS)
    ])
    return dict(ann_file=str(root / 'pan.json'), seg_prefix=str(root / 'pan'))


def _sample(root):
    return dict(
        img_id=7,
        img_path=str(root / 'images' / 'toy.jpg'),
        ori_shape=(H, W),
        # a copy: the metric writes VOID (0) into the prediction in place
        pred_panoptic_seg=dict(sem_seg=torch.from_numpy(PRED.copy())[None]))


@pytest.mark.parametrize('outfile', [False, True])
def test_coco_panoptic_metric_equals_hand_pq(tmp_path, outfile):
    # outfile False: PQ per batch (single process); True: the route of
    # distributed tests, files written and scored by pq_compute_multi_core
    kwargs = _write(tmp_path)
    if outfile:
        kwargs.update(outfile_prefix=str(tmp_path / 'out' / 'r'), nproc=1)
        (tmp_path / 'out').mkdir()
    metric = CocoPanopticMetric(**kwargs)
    metric.dataset_meta = dict(
        classes=CLASSES, thing_classes=CLASSES[:2], stuff_classes=CLASSES[2:])
    metric.process({}, [_sample(tmp_path)])
    result = metric.compute_metrics(metric.results)
    expected = {
        '': _hand_pq([CAT, CUP, TABLE, WALL]),
        '_th': _hand_pq([CAT, CUP]),
        '_st': _hand_pq([TABLE, WALL]),
    }
    for suffix, (pq, sq, rq) in expected.items():
        got = [result[f'{k}{suffix}'] for k in ('PQ', 'SQ', 'RQ')]
        np.testing.assert_allclose(got, [pq, sq, rq], atol=1e-3)
    # the numbers above, written out: all / things / stuff
    np.testing.assert_allclose(
        [result[k] for k in ('PQ', 'SQ', 'RQ', 'PQ_th', 'PQ_st')],
        [39.1667, 42.7083, 45.0, 28.3333, 50.0],
        atol=1e-3)


def test_panopticapi_imports_work_with_numpy_2():
    # every name MMDetection imports from panopticapi (facts §4)
    from panopticapi.evaluation import OFFSET, VOID, PQStat  # noqa: F401
    from panopticapi.utils import IdGenerator, id2rgb, rgb2id, save_json
    assert int(np.__version__.split('.')[0]) >= 2
    assert (OFFSET, VOID) == (256**3, 0)
    ids = np.array([[1, 256, 70000, 256**3 - 1]])
    rgb = id2rgb(ids)
    assert rgb.dtype == np.uint8
    # the ndarray path (loading, metric) casts to int32: no overflow
    np.testing.assert_array_equal(rgb2id(rgb), ids)
    # the converter's colours: palette tuples of Python ints, and random
    # jitter as int64 when a thing colour is taken
    gen = IdGenerator({
        0: dict(id=0, isthing=1, color=(255, 255, 250)),
        1: dict(id=1, isthing=0, color=(10, 20, 30)),
    })
    first, _ = gen.get_id_and_color(0)
    second, color = gen.get_id_and_color(0)
    assert first == 255 + 255 * 256 + 250 * 65536
    assert second != first and second == rgb2id(color)
    assert gen.get_id(1) == 10 + 20 * 256 + 30 * 65536
    assert callable(save_json)
