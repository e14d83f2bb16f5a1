# Copyright (c) mmclipself contributors. All rights reserved.
"""The tiny ADE panoptic set is what MMDetection's converter writes.

MMDetection's ``tools/dataset_converters/ade20k2coco.py`` (through
panopticapi-lite on numpy 2) converts the tiny set's raw ADE annotations;
its json and PNGs must describe the same segments as the set written by
:func:`mmclipself.testing.panoptic.write_tiny_ade20k`.
"""
import json
import os.path as osp
import runpy
import shutil
import sys

import mmdet
import numpy as np
from PIL import Image

from mmclipself.testing.panoptic import write_tiny_ade20k

CONVERTER = osp.join(
    osp.dirname(mmdet.__file__), '.mim', 'tools', 'dataset_converters',
    'ade20k2coco.py')


def _category_map(root, ann):
    rgb = np.asarray(Image.open(root / ann['file_name'])).astype(np.int64)
    ids = rgb[..., 0] + 256 * rgb[..., 1] + 65536 * rgb[..., 2]
    out = np.full(ids.shape, -1)
    for seg in ann['segments_info']:
        out[ids == seg['id']] = seg['category_id']
    return out


def test_writer_matches_mmdet_converter(tmp_path, monkeypatch):
    ours = tmp_path / 'ours'
    write_tiny_ade20k(ours)
    raw = tmp_path / 'raw'
    for folder in ('images', 'annotations', 'annotations_instance'):
        # the converter does both splits: training is a copy here
        for split in ('training', 'validation'):
            shutil.copytree(ours / folder / 'validation', raw / folder / split)
    monkeypatch.setattr(sys, 'argv',
                        [CONVERTER, str(raw), '--task', 'panoptic'])
    runpy.run_path(CONVERTER, run_name='__main__')

    theirs = json.loads((raw / 'ade20k_panoptic_val.json').read_text())
    mine = json.loads((ours / 'ade20k_panoptic_val.json').read_text())
    assert [{
        k: v
        for k, v in c.items() if k != 'color'
    } for c in theirs['categories']] == mine['categories']
    assert theirs['images'] == mine['images']
    for a, b in zip(theirs['annotations'], mine['annotations']):
        assert (a['image_id'], a['file_name']) == (b['image_id'],
                                                   b['file_name'])

        def segments(ann):
            return sorted((s['category_id'], s['area'], s['iscrowd'])
                          for s in ann['segments_info'])

        assert segments(a) == segments(b)
        np.testing.assert_array_equal(
            _category_map(raw / 'ade20k_panoptic_val', a),
            _category_map(ours / 'ade20k_panoptic_val', b))
