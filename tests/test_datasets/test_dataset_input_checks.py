# Copyright (c) mmclipself contributors. All rights reserved.
"""What a user passes to our datasets is checked when they are built.

Missing files and folders, annotation files without the dataset's classes,
malformed proposal files and image sources with no readable image each
fail with one message naming the file, key or class.
"""
import json
import logging

import numpy as np
import pytest
from mmengine.logging import MMLogger
from PIL import Image

from mmclipself.datasets import (CocoPanopticRegionDataset, ImageRegionDataset,
                                 OVCocoDataset)
from mmclipself.datasets.transforms import LoadImageOrSkip
from mmclipself.testing.detection import write_tiny_coco
from mmclipself.testing.panoptic import write_tiny_panoptic

PIPELINE = [
    dict(type='mmclipself.LoadImageOrSkip'),
    dict(type='mmclipself.RandomGridRegions', split=(2, 2)),
    dict(type='mmclipself.PackRegionInputs'),
]


def _good(path):
    Image.fromarray(np.full((24, 32, 3), 90, np.uint8)).save(path)


def _ov_coco(tiny, **kwargs):
    return OVCocoDataset(
        data_root=tiny['data_root'],
        ann_file=tiny['ann_file'],
        data_prefix=tiny['data_prefix'],
        pipeline=[],
        **kwargs)


def test_ov_coco_names_the_classes_missing_from_the_annotation_file(tmp_path):
    tiny = write_tiny_coco(tmp_path)
    assert len(_ov_coco(tiny)) == 3  # all 80 categories: fine
    with open(tiny['ann_file']) as f:
        coco = json.load(f)
    # drop 'cat' and 'cup' (OV-COCO novel classes) from the categories
    coco['categories'] = [
        c for c in coco['categories'] if c['name'] not in ('cat', 'cup')
    ]
    coco['annotations'] = [
        a for a in coco['annotations'] if a['category_id'] not in (17, 47)
    ]
    with open(tiny['ann_file'], 'w') as f:
        json.dump(coco, f)
    # before: 63 class ids, labels silently shifted
    with pytest.raises(ValueError) as e:
        _ov_coco(tiny)
    msg = str(e.value)
    assert tiny['ann_file'] in msg
    assert "lacks 2 of the 65 classes of OVCocoDataset: ['cat', 'cup']" in msg


def test_ov_coco_missing_annotation_file_or_image_folder(tmp_path):
    tiny = write_tiny_coco(tmp_path)
    with pytest.raises(
            FileNotFoundError,
            match='ann_file not found: .*'
            'nope.json.*build_ov_coco.py'):
        _ov_coco(dict(tiny, ann_file=str(tmp_path / 'nope.json')))
    with pytest.raises(
            FileNotFoundError,
            match=r'data_prefix.img folder not found: .*imgs/'):
        _ov_coco(dict(tiny, data_prefix=dict(img='imgs/')))


def test_image_folder_of_only_unreadable_images_is_one_line(tmp_path):
    (tmp_path / 'imgs').mkdir()
    for n in ('a.jpg', 'b.png', 'c.jpg'):
        (tmp_path / 'imgs' / n).write_bytes(b'not an image')
    root = str(tmp_path / 'imgs')
    with pytest.raises(ValueError) as e:
        ImageRegionDataset(data_root=root, pipeline=PIPELINE)
    assert str(e.value).startswith(
        f"all 3 images in '{root}/' are unreadable (first: '{root}/a.jpg')")
    # one readable image is enough; the others are skipped while loading
    _good(tmp_path / 'imgs' / 'c.jpg')
    assert len(ImageRegionDataset(data_root=root, pipeline=PIPELINE)) == 3


def test_text_list_of_missing_images_and_missing_list(tmp_path):
    (tmp_path / 'list.txt').write_text('x.jpg\ny.jpg\n')
    with pytest.raises(ValueError, match=r'all 2 images in .*list.txt'):
        ImageRegionDataset(
            ann_file=str(tmp_path / 'list.txt'),
            data_prefix=dict(img_path=str(tmp_path)),
            pipeline=PIPELINE)
    with pytest.raises(
            FileNotFoundError, match=r"ann_file not found: '.*nope.txt'"):
        ImageRegionDataset(
            ann_file=str(tmp_path / 'nope.txt'),
            data_prefix=dict(img_path=str(tmp_path)),
            pipeline=PIPELINE)


def test_validation_list_with_a_missing_image_fails_at_build(tmp_path):
    _good(tmp_path / 'a.jpg')
    (tmp_path / 'list.txt').write_text('a.jpg\nb.jpg\nc.jpg\n')
    kwargs = dict(
        ann_file=str(tmp_path / 'list.txt'),
        data_prefix=dict(img_path=str(tmp_path)),
        pipeline=PIPELINE)
    assert len(ImageRegionDataset(**kwargs)) == 3  # training: skipped later
    with pytest.raises(FileNotFoundError) as e:
        ImageRegionDataset(test_mode=True, **kwargs)
    assert str(e.value).startswith(
        f"2 of the 3 images of '{tmp_path}/list.txt' do not exist "
        f"(first: '{tmp_path}/b.jpg')")


def test_validation_image_that_cannot_be_read_is_named(tmp_path):
    (tmp_path / 'imgs').mkdir()
    _good(tmp_path / 'imgs' / 'a.jpg')
    (tmp_path / 'imgs' / 'b.jpg').write_bytes(b'\xff\xd8 truncated')
    ds = ImageRegionDataset(
        data_root=str(tmp_path / 'imgs'), pipeline=PIPELINE, test_mode=True)
    assert ds[0]['inputs'].shape == (3, 24, 32)
    with pytest.raises(ValueError, match=r"validation/test image '.*b.jpg'"):
        ds[1]


def test_panoptic_validation_image_that_cannot_be_read_is_named(tmp_path):
    kwargs = write_tiny_panoptic(tmp_path)
    pipeline = [
        dict(type='mmclipself.LoadImageOrSkip'),
        dict(type='mmclipself.PackRegionInputs'),
    ]
    ds = CocoPanopticRegionDataset(pipeline=pipeline, test_mode=True, **kwargs)
    path = ds.get_data_info(0)['img_path']
    with open(path, 'wb') as f:
        f.write(b'broken')
    with pytest.raises(ValueError, match='validation/test image .*' + path):
        ds[0]


def test_panoptic_missing_segment_folder(tmp_path):
    kwargs = write_tiny_panoptic(tmp_path)
    kwargs['data_prefix'] = dict(kwargs['data_prefix'], seg_path='nope/')
    with pytest.raises(
            FileNotFoundError, match='data_prefix.seg_path folder not found'):
        CocoPanopticRegionDataset(pipeline=[], **kwargs)


@pytest.mark.parametrize('content, message', [
    ('{"boxes": 1}', 'expected a COCO-results-style list'),
    ('[{"image_id": 0, "bbox": [1, 2, 3]}]', 'record 0: expected'),
    ('[{"bbox": [1, 2, 3, 4]}]', 'record 0: expected'),
    ('[{"image_id": 0, "bb', 'is not valid JSON'),
    ('[{"image_id": 7, "bbox": [1, 2, 3, 4]}]',
     'no image of .* has a proposal in .*: its records are keyed by '
     r"\[7\], the images by image_id 0 or file_name 'a.jpg'"),
])
def test_proposal_file_format_and_coverage(tmp_path, content, message):
    (tmp_path / 'imgs').mkdir()
    _good(tmp_path / 'imgs' / 'a.jpg')
    (tmp_path / 'props.json').write_text(content)
    with pytest.raises(ValueError, match=message):
        ImageRegionDataset(
            data_root=str(tmp_path / 'imgs'),
            proposal_file=str(tmp_path / 'props.json'),
            pipeline=PIPELINE)


class _Warnings(logging.Handler):

    def __init__(self):
        super().__init__(logging.WARNING)
        self.lines = []

    def emit(self, record):
        self.lines.append(record.getMessage())


def test_an_unreadable_training_image_is_named_once_and_counted(tmp_path):
    (tmp_path / 'broken.jpg').write_bytes(b'\xff\xd8 truncated')
    logger = MMLogger.get_current_instance()
    handler = _Warnings()
    logger.addHandler(handler)
    before = LoadImageOrSkip.num_skipped
    load = LoadImageOrSkip()
    try:
        for _ in range(3):  # MMEngine draws it again and again
            assert load(dict(img_path=str(tmp_path / 'broken.jpg'))) is None
    finally:
        logger.removeHandler(handler)
    assert LoadImageOrSkip.num_skipped == before + 3
    assert len(handler.lines) == 1
    assert handler.lines[0].startswith(
        f'skipped unreadable image {tmp_path}/broken.jpg')
