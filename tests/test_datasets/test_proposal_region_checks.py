# Copyright (c) mmclipself contributors. All rights reserved.
"""Degenerate proposals: dropped or clipped, counted and logged once."""
import logging

import numpy as np
import pytest
from mmengine.logging import MMLogger

from mmclipself.datasets.transforms import ProposalRegions


class _Records(logging.Handler):

    def __init__(self):
        super().__init__(logging.DEBUG)
        self.lines = []

    def emit(self, record):
        self.lines.append((record.levelno, record.getMessage()))


@pytest.fixture
def log_lines():
    logger = MMLogger.get_current_instance()
    handler = _Records()
    logger.addHandler(handler)
    yield handler.lines
    logger.removeHandler(handler)


def _sorted(out):
    order = np.lexsort(out['regions'].T[::-1])
    return out['regions'][order], out['crop_regions'][order]


def test_negative_width_and_height_do_not_pass_the_area_filter(log_lines):
    # (-40) * (-20) = 800 px would pass the 8^2..1024^2 area rule
    props = np.array([[50, 50, 10, 30], [10, 10, 50, 30]], np.float32)
    t = ProposalRegions()
    out = t(dict(img_shape=(100, 100), proposals=props, img_path='a.jpg'))
    np.testing.assert_array_equal(out['regions'], [[10, 10, 50, 30]])
    assert t.counts['degenerate'] == 1 and t.counts['fallback'] == 0
    warnings = [m for lvl, m in log_lines if lvl == logging.WARNING]
    assert len(warnings) == 1
    assert 'negative width/height dropped (first in a.jpg)' in warnings[0]


def test_boxes_outside_the_image_are_clipped_or_dropped():
    props = np.array(
        [
            [-20, 10, 30, 50],  # clipped to [0, 10, 30, 50]
            [90, 80, 140, 130],  # clipped to [90, 80, 100, 100]: 200 px
            [120, 0, 160, 40],  # right of the image: dropped
            [10, -50, 40, -10],  # above the image: dropped
            [99, 0, 130, 50],  # clipped to a 1 x 50 sliver: too small
        ],
        np.float32)
    t = ProposalRegions()
    out = t(dict(img_shape=(100, 100), proposals=props))
    regions, crops = _sorted(out)
    np.testing.assert_array_equal(regions,
                                  [[0, 10, 30, 50], [90, 80, 100, 100]])
    # teacher crops are 1.5x the clipped boxes, clipped again
    np.testing.assert_allclose(crops, [[0, 0, 37.5, 60], [87.5, 75, 100, 100]])
    assert t.counts == dict(
        degenerate=0, outside=2, clipped=3, size=1, fallback=0)


def test_release_size_rule_applies_to_valid_boxes():
    props = np.array(
        [
            [0, 0, 7, 9],  # 63 px < 8^2: skipped
            [0, 0, 8, 8],  # 64 px: kept
            [0, 0, 1100, 960],  # 1056000 px > 1024^2: skipped
            [0, 0, 1024, 1024],  # kept
        ],
        np.float32)
    t = ProposalRegions()
    out = t(dict(img_shape=(1200, 1200), proposals=props))
    regions, _ = _sorted(out)
    np.testing.assert_array_equal(regions, [[0, 0, 8, 8], [0, 0, 1024, 1024]])
    assert t.counts['size'] == 2


def test_every_kind_is_counted_and_logged_once_not_per_image(log_lines):
    t = ProposalRegions()
    bad = np.array([[30, 30, 10, 10], [-5, -5, 20, 20], [200, 200, 300, 300],
                    [0, 0, 2, 2]], np.float32)
    for i in range(5):
        t(dict(img_shape=(100, 100), proposals=bad, img_path=f'{i}.jpg'))
    # the only survivor is the clipped [0, 0, 20, 20]
    assert t.counts == dict(
        degenerate=5, outside=5, clipped=5, size=5, fallback=0)
    for i in range(3):
        out = t(
            dict(
                img_shape=(60, 80),
                proposals=np.zeros((0, 4)),
                img_path=f'empty{i}.jpg'))
        np.testing.assert_array_equal(out['regions'], [[0, 0, 40, 30]])
    assert t.counts['fallback'] == 3
    lines = [m for _, m in log_lines if m.startswith('ProposalRegions')]
    assert len(lines) == 5  # one per kind, the first image only
    assert sum('(first in 0.jpg)' in m for m in lines) == 4
    fallback = [m for m in lines if 'top-left quarter' in m]
    assert len(fallback) == 1 and '(first in empty0.jpg)' in fallback[0]
    # the release's own size rule is information, the rest are warnings
    levels = [lvl for lvl, m in log_lines if m.startswith('ProposalRegions')]
    assert [m for m, lvl in zip(lines, levels)
            if lvl == logging.INFO] == [lines[3]]
    assert 'size range skipped' in lines[3]


def test_non_finite_coordinates_are_dropped():
    props = np.array([[np.nan, 0, 20, 20], [0, 0, np.inf, 20]], np.float32)
    t = ProposalRegions(fallback='error')
    with pytest.raises(
            ValueError,
            match=r'no usable proposal for b.jpg: '
            r'none of its 2 boxes is inside the image \(80x60\)'):
        t(dict(img_shape=(60, 80), proposals=props, img_path='b.jpg'))
    assert t.counts['degenerate'] == 2
