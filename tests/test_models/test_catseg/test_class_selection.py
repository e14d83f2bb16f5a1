# Copyright (c) mmclipself contributors. All rights reserved.
import pytest
import torch

from mmclipself.models.catseg import (gather_classes, scatter_classes,
                                      select_top_classes)


def test_select_top_classes_by_hand():
    # B=2, P=2, T=5, 2x2 map; the class score is the max over (P, H, W).
    cost = torch.full((2, 2, 5, 2, 2), -1.0)
    # image 0: class maxima 0.1, 0.9, 0.3, 0.7, 0.2 (in varied places)
    cost[0, 0, 0, 0, 0] = 0.1
    cost[0, 1, 1, 1, 1] = 0.9
    cost[0, 0, 2, 1, 0] = 0.3
    cost[0, 1, 3, 0, 1] = 0.7
    cost[0, 0, 4, 1, 1] = 0.2
    # image 1: 0.8, 0.0, 0.6, -0.5, 0.95
    cost[1, 1, 0, 0, 0] = 0.8
    cost[1, 0, 1, 0, 1] = 0.0
    cost[1, 0, 2, 1, 1] = 0.6
    cost[1, 1, 3, 1, 0] = -0.5
    cost[1, 1, 4, 0, 0] = 0.95
    index = select_top_classes(cost, 3)
    assert index.tolist() == [[1, 2, 3], [0, 2, 4]]
    with pytest.raises(ValueError, match='num_keep'):
        select_top_classes(cost, 6)


def test_gather_and_scatter_by_hand():
    index = torch.tensor([[1, 3], [0, 2]])
    text = torch.arange(4 * 3).float().view(1, 4, 3)  # shared by the batch
    got = gather_classes(text, index, dim=1)
    assert got.shape == (2, 2, 3)
    torch.testing.assert_close(got[0], text[0, [1, 3]])
    torch.testing.assert_close(got[1], text[0, [0, 2]])
    cost = torch.randn(2, 1, 4, 2, 2)
    got = gather_classes(cost, index, dim=2)
    torch.testing.assert_close(got[1, :, 1], cost[1, :, 2])
    logits = torch.randn(2, 2, 3, 3)
    out = scatter_classes(logits, index, 4, -100.0)
    assert out.shape == (2, 4, 3, 3)
    torch.testing.assert_close(out[0, 1], logits[0, 0])
    torch.testing.assert_close(out[0, 3], logits[0, 1])
    torch.testing.assert_close(out[1, 0], logits[1, 0])
    torch.testing.assert_close(out[1, 2], logits[1, 1])
    for b, dropped in ((0, (0, 2)), (1, (1, 3))):
        for t in dropped:
            assert (out[b, t] == -100.0).all()
