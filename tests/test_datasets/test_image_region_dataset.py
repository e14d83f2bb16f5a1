# Copyright (c) mmclipself contributors. All rights reserved.
import json

import numpy as np
import pytest
from PIL import Image

from mmclipself.datasets import ImageRegionDataset
from mmclipself.datasets.transforms import LoadImageOrSkip

PIPELINE = [
    dict(type='LoadImageOrSkip'),
    dict(type='RandomGridRegions', split=(2, 2)),
    dict(type='PackRegionInputs'),
]


def _images(root, names):
    root.mkdir(parents=True, exist_ok=True)
    for i, n in enumerate(names):
        Image.fromarray(np.full((20 + i, 30, 3), 40 * i,
                                np.uint8)).save(root / n)


def test_folder_txt_and_coco_json_sources(tmp_path):
    _images(tmp_path / 'imgs' / 'sub', ['b.jpg'])
    _images(tmp_path / 'imgs', ['a.png', 'c.jpeg'])
    (tmp_path / 'imgs' / 'notes.txt').write_text('not an image')
    ds = ImageRegionDataset(
        data_root=str(tmp_path / 'imgs'), pipeline=PIPELINE)
    assert [ds.get_data_info(i)['file_name']
            for i in range(len(ds))] == ['a.png', 'c.jpeg', 'sub/b.jpg']
    item = ds[0]
    assert item['inputs'].shape == (3, 20, 30)
    assert item['data_samples'].regions.shape == (4, 4)

    (tmp_path / 'list.txt').write_text('sub/b.jpg\n\nc.jpeg\n')
    ds = ImageRegionDataset(
        ann_file=str(tmp_path / 'list.txt'),
        data_prefix=dict(img_path=str(tmp_path / 'imgs')),
        pipeline=PIPELINE)
    assert len(ds) == 2 and ds[1]['inputs'].shape == (3, 21, 30)

    lvis = dict(images=[
        dict(id=7, coco_url='http://images.cocodataset.org/sub/b.jpg'),
        dict(id=9, file_name='c.jpeg')
    ])
    (tmp_path / 'lvis.json').write_text(json.dumps(lvis))
    ds = ImageRegionDataset(
        ann_file=str(tmp_path / 'lvis.json'),
        data_prefix=dict(img_path=str(tmp_path / 'imgs')),
        pipeline=PIPELINE)
    assert [ds.get_data_info(i)['img_id'] for i in range(2)] == [7, 9]
    assert ds[0]['data_samples'].img_id == 7
    assert ds[0]['data_samples'].img_path.endswith('imgs/sub/b.jpg')


def test_proposals_attach_and_images_without_are_skipped(tmp_path):
    _images(tmp_path / 'imgs', ['a.png', 'b.png'])
    coco = dict(
        images=[dict(id=1, file_name='a.png'),
                dict(id=2, file_name='b.png')])
    (tmp_path / 'ann.json').write_text(json.dumps(coco))
    (tmp_path / 'props.json').write_text(
        json.dumps([dict(image_id=1, bbox=[2, 3, 10, 8], score=0.9)]))
    ds = ImageRegionDataset(
        ann_file='ann.json',
        data_root=str(tmp_path),
        data_prefix=dict(img_path=str(tmp_path / 'imgs')),
        proposal_file='props.json',
        pipeline=[
            dict(type='LoadImageOrSkip'),
            dict(type='ProposalRegions'),
            dict(type='PackRegionInputs')
        ])
    assert len(ds) == 1
    np.testing.assert_allclose(
        ds.get_data_info(0)['proposals'], [[2, 3, 12, 11]])
    np.testing.assert_allclose(ds[0]['data_samples'].regions, [[2, 3, 12, 11]])


def test_clear_errors_for_empty_and_bad_sources(tmp_path):
    (tmp_path / 'empty').mkdir()
    with pytest.raises(ValueError, match='no images found'):
        ImageRegionDataset(data_root=str(tmp_path / 'empty'))
    with pytest.raises(FileNotFoundError, match='image folder not found'):
        ImageRegionDataset(data_root=str(tmp_path / 'missing'))
    (tmp_path / 'x.json').write_text('{"annotations": []}')
    with pytest.raises(ValueError, match='no "images" list'):
        ImageRegionDataset(ann_file=str(tmp_path / 'x.json'))
    with pytest.raises(ValueError, match='unsupported ann_file'):
        ImageRegionDataset(ann_file=str(tmp_path / 'x.csv'))


def test_unreadable_images_are_skipped_and_counted(tmp_path):
    _images(tmp_path / 'imgs', ['good.png'])
    (tmp_path / 'imgs' / 'broken.jpg').write_bytes(b'\xff\xd8 truncated')
    (tmp_path / 'imgs' / 'empty.png').write_bytes(b'')
    LoadImageOrSkip.num_skipped = 0
    ds = ImageRegionDataset(
        data_root=str(tmp_path / 'imgs'), pipeline=PIPELINE)
    assert len(ds) == 3
    # every index yields the good image: broken ones are replaced
    for i in range(3):
        assert ds[i]['data_samples'].img_path.endswith('good.png')
    assert LoadImageOrSkip.num_skipped >= 2
