# Copyright (c) mmclipself contributors. All rights reserved.
import pytest
import torch

from mmclipself.models.losses import CosineSimilarityLoss


def test_matches_one_minus_cosine():
    torch.manual_seed(0)
    pred = torch.randn(5, 16, requires_grad=True)
    target = torch.randn(5, 16)
    loss = CosineSimilarityLoss(loss_weight=2.)(pred, target)
    p = pred / pred.norm(dim=1, keepdim=True)
    t = target / target.norm(dim=1, keepdim=True)
    expected = 2. * (1. - (p * t).sum(1)).mean()
    assert torch.allclose(loss, expected, atol=1e-6)
    loss.backward()
    assert pred.grad is not None and pred.grad.abs().sum() > 0


def test_identical_and_opposite_directions():
    x = torch.randn(3, 8)
    loss = CosineSimilarityLoss()
    assert loss(x, 3 * x).item() == pytest.approx(0., abs=1e-6)
    assert loss(x, -x).item() == pytest.approx(2., abs=1e-6)


def test_target_gets_no_gradient_and_weights():
    pred = torch.randn(4, 8, requires_grad=True)
    target = torch.randn(4, 8, requires_grad=True)
    weight = torch.tensor([1., 0., 0., 0.])
    loss = CosineSimilarityLoss()(pred, target, weight=weight)
    single = CosineSimilarityLoss()(pred[:1], target[:1])
    assert torch.allclose(loss, single)
    loss.backward()
    assert target.grad is None


def test_empty_input_is_zero_with_gradient_and_bad_shape_is_rejected():
    pred = torch.zeros(0, 8, requires_grad=True)
    loss = CosineSimilarityLoss()(pred, torch.zeros(0, 8))
    assert loss.item() == 0.
    loss.backward()
    assert pred.grad is not None
    with pytest.raises(ValueError, match=r'\(2, 8\) and \(2, 4\)'):
        CosineSimilarityLoss()(torch.randn(2, 8), torch.randn(2, 4))
