# Copyright (c) mmclipself contributors. All rights reserved.
"""The crop parity tool measures both crop routes against the PIL route."""
import os.path as osp
import runpy

import numpy as np
import pytest
import skimage.data
from PIL import Image

REPO = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))
TOOL = runpy.run_path(osp.join(REPO, 'tools', 'analysis', 'crop_parity.py'))


def test_psnr_and_the_pil_reference_by_hand():
    ref = np.zeros((2, 3, 4, 4), np.uint8)
    ours = ref.astype(np.float32)
    ours[1, 0, 0, 0] = 48.  # mse = 48^2 / 48 = 48
    psnr = TOOL['crop_psnr'](ours, ref)
    assert psnr[0] == np.inf
    assert psnr[1] == pytest.approx(10 * np.log10(255.**2 / 48))
    # the box rounds to 1 x 2 pixels: resized to 2 x 4, centred columns 1..2
    img = Image.fromarray(np.full((4, 4, 3), 90, np.uint8))
    crops = TOOL['pil_release_crops'](img, np.array([[0.4, 1, 1.4, 3]]), 4)
    assert crops.shape == (1, 3, 4, 4)
    assert (crops[0, :, :, 1:3] == 90).all()
    assert (crops[0, :, :, 0] == 0).all() and (crops[0, :, :, 3] == 0).all()


def test_grids_and_proposals_of_the_configs():
    assert TOOL['grid_splits']('square') == [(k, k) for k in range(1, 7)]
    assert len(TOOL['grid_splits']('all')) == 36
    assert (6, 3) in TOOL['grid_splits']('release')
    assert (6, 1) not in TOOL['grid_splits']('release')
    boxes = TOOL['grid_crop_boxes'](30, 40, [(1, 1), (2, 3)])
    assert len(boxes) == 7
    crops = TOOL['proposal_crop_boxes'](427, 640, num=30)
    assert crops.shape == (30, 4)
    assert (crops[:, :2] >= 0).all() and (crops[:, 2] <= 640).all()
    assert (crops[:, 3] <= 427).all()
    assert (crops[:, 0] == 0).any() and (crops[:, 2] == 640).any()
    with pytest.raises(ValueError, match="'square'"):
        TOOL['grid_splits']('diagonal')


def test_parity_on_a_photo_separates_the_routes(tmp_path):
    Image.fromarray(skimage.data.chelsea()).save(tmp_path / 'cat.png')
    (tmp_path / 'notes.txt').write_text('not an image')
    paths = TOOL['image_paths'](str(tmp_path))
    assert paths == [str(tmp_path / 'cat.png')]
    result = TOOL['parity'](paths, crop_size=112, grids='square', proposals=8)
    assert set(result) == {'grid', 'proposal'}
    grid = result['grid']
    assert grid['release']['n'] == 91 and grid['roi_align']['n'] == 91
    for kind in result.values():
        assert kind['release']['psnr'].min() >= 45
        assert kind['release']['mad'] < 0.5
        assert kind['release']['mad'] < kind['roi_align']['mad']
    assert grid['roi_align']['psnr'].min() < 35
    table = TOOL['format_table'](result)
    assert '| grid | release | 91 |' in table
    (tmp_path / 'empty').mkdir()
    with pytest.raises(FileNotFoundError, match='no images .* in .*empty'):
        TOOL['image_paths'](str(tmp_path / 'empty'))
    with pytest.raises(FileNotFoundError, match='no image folder .*missing'):
        TOOL['image_paths'](str(tmp_path / 'missing'))
