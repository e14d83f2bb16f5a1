# Copyright (c) mmclipself contributors. All rights reserved.
import numpy as np
from mmengine.registry import DefaultScope

from mmclipself.datasets import PascalContext459Dataset
from mmclipself.registry import DATASETS
from mmclipself.testing.segmentation import LAYOUTS, write_seg_set
from mmclipself.vocab import get_class_names


def _labels():
    """Hand-made maps with classes past 255 (0..458, 'unknown' included)."""
    a = np.full((20, 30), 458, np.uint16)
    a[:, :10] = 0
    a[5:15, 10:20] = 256
    b = np.full((16, 24), 300, np.uint16)
    b[8:] = 17
    return {'2008_000002': a, '2008_000005': b}


def _build(root, loader='mmclipself.LoadSegAnnotations16'):
    with DefaultScope.overwrite_default_scope('mmseg'):
        return DATASETS.build(
            dict(
                type='mmclipself.PascalContext459Dataset',
                data_root=str(root),
                data_prefix=dict(
                    img_path=LAYOUTS['pascal_context_459']['img_path'],
                    seg_map_path=LAYOUTS['pascal_context_459']
                    ['seg_map_path']),
                pipeline=[
                    dict(type='LoadImageFromFile'),
                    dict(type=loader),
                    dict(type='PackSegInputs')
                ],
                test_mode=True))


def test_samples_are_the_label_files(tmp_path):
    labels = _labels()
    # VOC2010 JPEGImages also holds images outside PC-459's validation set
    write_seg_set(
        tmp_path,
        'pascal_context_459',
        labels,
        extra_images=('2008_000001', '2008_000003'))
    ds = _build(tmp_path)
    assert isinstance(ds, PascalContext459Dataset)
    assert len(ds) == 2
    assert [ds.get_data_info(i)['img_path'][-15:] for i in range(2)] == \
        ['2008_000002.jpg', '2008_000005.jpg']
    assert ds.metainfo['classes'] == get_class_names('pc459')
    assert len(ds.metainfo['classes']) == 459
    assert ds.ignore_index == 459
    for i, name in enumerate(sorted(labels)):
        out = ds[i]
        gt = out['data_samples'].gt_sem_seg.data[0].numpy()
        np.testing.assert_array_equal(gt, labels[name])
        assert out['inputs'].shape[1:] == labels[name].shape


def test_mmseg_loader_would_corrupt_the_labels(tmp_path):
    labels = _labels()
    write_seg_set(tmp_path, 'pascal_context_459', labels)
    gt = _build(tmp_path, 'LoadAnnotations')[0]['data_samples']
    a = labels['2008_000002']
    np.testing.assert_array_equal(gt.gt_sem_seg.data[0].numpy(), a % 256)
    assert (gt.gt_sem_seg.data[0].numpy() != a).sum() == (a > 255).sum()
