# Copyright (c) mmclipself contributors. All rights reserved.
import pytest
import torch

from mmclipself.models.segmentors import (crop_views, fold_views,
                                          window_positions)


def test_release_windows_on_640():
    # nn.Unfold(384, stride=int(384 * (1 - 0.333)) = 256) on 640x640
    assert window_positions((640, 640), (384, 384), (256, 256)) == [(0, 0),
                                                                    (0, 256),
                                                                    (256, 0),
                                                                    (256, 256)]


def test_an_uncovered_end_gets_one_more_window():
    # 0, 256 leave 640..699 uncovered: one more window ends at 700
    assert window_positions((384, 700), (384, 384), (256, 256)) == [(0, 0),
                                                                    (0, 256),
                                                                    (0, 316)]
    with pytest.raises(ValueError, match='larger than the image'):
        window_positions((300, 640), (384, 384), (256, 256))


def test_crop_views_are_the_slices():
    x = torch.arange(2 * 3 * 80 * 80, dtype=torch.float32).view(2, 3, 80, 80)
    pos = window_positions((80, 80), (48, 48), (32, 32))
    views = crop_views(x, pos, (48, 48))
    assert views.shape == (2, 4, 3, 48, 48)
    assert torch.equal(views[1, 2], x[1, :, 32:80, 0:48])


def test_fold_divides_by_the_overlap_count():
    # windows at (0,0), (0,32), (32,0), (32,32), each 48x48 on 80x80;
    # window k holds the constant k + 1 (class 0) and 10 * (k + 1) (class 1)
    pos = window_positions((80, 80), (48, 48), (32, 32))
    views = torch.ones(1, 4, 2, 48, 48)
    views = views * torch.tensor([1., 2., 3., 4.]).view(1, 4, 1, 1, 1)
    views[:, :, 1] *= 10
    out = fold_views(views, pos, (80, 80))
    assert out.shape == (1, 2, 80, 80)
    expected = {  # pixel: mean of the windows covering it, by hand
        (0, 0): 1.0,  # window 1 only
        (0, 40): (1 + 2) / 2,  # top band, both upper windows
        (40, 0): (1 + 3) / 2,  # left band
        (40, 40): (1 + 2 + 3 + 4) / 4,  # the centre: all four
        (79, 79): 4.0,
        (79, 40): (3 + 4) / 2,
    }
    for (y, x), value in expected.items():
        assert out[0, 0, y, x].item() == pytest.approx(value)
        assert out[0, 1, y, x].item() == pytest.approx(10 * value)


def test_fold_rejects_uncovered_pixels_and_bad_counts():
    with pytest.raises(ValueError, match='uncovered'):
        fold_views(torch.ones(1, 1, 1, 48, 48), [(0, 0)], (80, 80))
    with pytest.raises(ValueError, match='2 views but 1'):
        fold_views(torch.ones(1, 2, 1, 48, 48), [(0, 0)], (48, 48))
