# Copyright (c) mmclipself contributors. All rights reserved.
import numpy as np
import pytest
import torch
from mmseg.datasets.transforms import LoadAnnotations, PackSegInputs

from mmclipself.datasets.transforms import LoadSegAnnotations16
from mmclipself.registry import TRANSFORMS
from mmclipself.testing.segmentation import save_label

# A-847-style labels: classes past 255 and the ignore index 65535
LABEL16 = np.array(
    [[0, 1, 255, 300], [511, 846, 65535, 65535], [12, 300, 300, 0]], np.uint16)


def _results(path, reduce_zero_label=False, label_map=None):
    return dict(
        seg_map_path=str(path),
        reduce_zero_label=reduce_zero_label,
        label_map=label_map,
        seg_fields=[])


@pytest.mark.parametrize('backend', ['pillow', 'cv2'])
def test_16bit_tif_labels_load_exactly(tmp_path, backend):
    path = tmp_path / 'a.tif'
    save_label(path, LABEL16)
    out = LoadSegAnnotations16(imdecode_backend=backend).transform(
        _results(path))
    assert out['gt_seg_map'].dtype == np.uint16
    np.testing.assert_array_equal(out['gt_seg_map'], LABEL16)
    assert out['seg_fields'] == ['gt_seg_map']


def test_mmseg_loader_corrupts_what_ours_keeps(tmp_path):
    path = tmp_path / 'a.tif'
    save_label(path, LABEL16)
    theirs = LoadAnnotations().transform(_results(path))['gt_seg_map']
    ours = LoadSegAnnotations16().transform(_results(path))['gt_seg_map']
    # mmseg's uint8 cast keeps the value modulo 256
    np.testing.assert_array_equal(theirs, LABEL16 % 256)
    assert theirs[0, 3] == 44 and theirs[1, 2] == 255  # 300, 65535
    assert ours[0, 3] == 300 and ours[1, 2] == 65535
    assert (theirs != ours).sum() == 7


def test_labels_survive_packing(tmp_path):
    path = tmp_path / 'a.tif'
    save_label(path, LABEL16)
    results = LoadSegAnnotations16().transform(_results(path))
    results.update(
        img=np.zeros((3, 4, 3), np.uint8),
        img_path='a.jpg',
        ori_shape=(3, 4),
        img_shape=(3, 4))
    packed = PackSegInputs(meta_keys=('img_path', )).transform(results)
    gt = packed['data_samples'].gt_sem_seg.data
    assert gt.shape == (1, 3, 4)
    assert gt.dtype == torch.int64
    np.testing.assert_array_equal(gt[0].numpy(), LABEL16.astype(np.int64))


def test_8bit_maps_equal_mmseg_with_zero_label_and_label_map(tmp_path):
    label = np.array([[0, 1, 2, 255], [254, 3, 0, 1]], np.uint8)
    path = tmp_path / 'a.png'
    save_label(path, label)
    for reduce, label_map in [(False, None), (True, None),
                              (False, {
                                  0: 255,
                                  1: 0,
                                  2: 1,
                                  3: 2
                              }), (True, {
                                  0: 2,
                                  1: 0,
                                  2: 1
                              })]:
        theirs = LoadAnnotations().transform(
            _results(path, reduce, label_map))['gt_seg_map']
        ours = LoadSegAnnotations16().transform(
            _results(path, reduce, label_map))['gt_seg_map']
        assert ours.dtype == np.uint8
        np.testing.assert_array_equal(ours, theirs)
    # hand check of the zero-label rule: 0 and 255 -> 255, others - 1
    ours = LoadSegAnnotations16().transform(_results(path, True))
    np.testing.assert_array_equal(ours['gt_seg_map'],
                                  [[255, 0, 1, 255], [253, 2, 255, 0]])


def test_registered_under_our_scope():
    t = TRANSFORMS.build(dict(type='mmclipself.LoadSegAnnotations16'))
    assert isinstance(t, LoadSegAnnotations16)


def test_missing_label_file_is_named(tmp_path):
    path = tmp_path / 'none' / 'x.tif'
    with pytest.raises(
            FileNotFoundError, match=r'label map not found.*x\.tif'):
        LoadSegAnnotations16().transform(_results(path))


@pytest.mark.parametrize('backend', ['pillow', 'cv2'])
def test_unreadable_label_file_is_named(tmp_path, backend):
    path = tmp_path / 'broken.tif'
    path.write_bytes(b'not an image at all')
    with pytest.raises(ValueError, match=r'cannot decode label map.*broken'):
        LoadSegAnnotations16(imdecode_backend=backend).transform(
            _results(path))


def test_colour_label_file_is_refused(tmp_path):
    from PIL import Image
    path = tmp_path / 'rgb.png'
    Image.fromarray(np.zeros((4, 5, 3), np.uint8)).save(path)
    with pytest.raises(ValueError, match=r'rgb\.png.*one channel'):
        LoadSegAnnotations16().transform(_results(path))


def test_zero_label_mismatch_with_dataset_is_refused(tmp_path):
    path = tmp_path / 'a.tif'
    save_label(path, LABEL16)
    t = LoadSegAnnotations16(reduce_zero_label=True)
    with pytest.raises(ValueError, match='reduce_zero_label'):
        t.transform(_results(path, reduce_zero_label=False))
