# Copyright (c) mmclipself contributors. All rights reserved.
import math

import pytest
import torch

from mmclipself.models.layers import (VoidScoreFusion, fuse_clip_scores,
                                      fuse_void_clip_logits)
from mmclipself.registry import MODELS


def test_fvit_rule_by_hand():
    # class 0 base, class 1 novel, background (last) base
    det = torch.tensor([[0.8, 0.0016, 0.25]])
    clip = torch.tensor([[0.2, 0.0081, 0.64]])
    base = torch.tensor([True, False, True])
    fused = fuse_clip_scores(det, clip, base, alpha=0.5, beta=0.75)
    # base: (0.8 * 0.2)^0.5 = 0.4; novel: 0.0016^0.25 * 0.0081^0.75
    # = 0.2 * 0.027 = 0.0054; background: (0.25 * 0.64)^0.5 = 0.4;
    # not renormalised
    torch.testing.assert_close(fused, torch.tensor([[0.4, 0.0054, 0.4]]))
    with pytest.raises(ValueError, match='differ in shape'):
        fuse_clip_scores(det, clip[:, :2], base, 0.5, 0.75)


def _logits(*values):
    return torch.tensor([math.log(v) for v in values])


def test_odise_rule_by_hand():
    # in-vocab exp-logits [4, 1, 1 | void 2]: p_void = 2 / 8 = 0.25,
    # p_in (void removed) = [2/3, 1/6, 1/6]; CLIP exp-logits [1, 4, 1]:
    # p_out = [1/6, 2/3, 1/6]. Classes 0 and 2 seen (alpha 0.5), class 1
    # unseen (beta 1): [(2/3 * 1/6)^0.5, 2/3, (1/6 * 1/6)^0.5]
    # = [1/3, 2/3, 1/6], renormalised [2/7, 4/7, 1/7], times 0.75
    in_logits = _logits(4, 1, 1, 2)
    clip_logits = _logits(1, 4, 1)
    seen = torch.tensor([True, False, True])
    out = fuse_void_clip_logits(in_logits, clip_logits, seen, 0.5, 1.0)
    expected = torch.tensor([3 / 14, 6 / 14, 1.5 / 14, 0.25])
    torch.testing.assert_close(out, expected)
    assert out.sum().item() == pytest.approx(1.0)
    # the log form: exact logs, and a softmax (what MMDetection's
    # MaskFormerFusionHead applies) gives the probabilities back
    log = fuse_void_clip_logits(in_logits, clip_logits, seen, 0.5, 1., True)
    torch.testing.assert_close(log, expected.log())
    torch.testing.assert_close(log.softmax(-1), expected)
    # a CLIP void/background column (K + 1) is dropped
    with_void = torch.cat([clip_logits, torch.tensor([30.])])
    torch.testing.assert_close(
        fuse_void_clip_logits(in_logits, with_void, seen, 0.5, 1.0), expected)


def test_odise_rule_defaults_batched_against_probability_space():
    torch.manual_seed(0)
    in_logits = torch.randn(2, 3, 5) * 3  # K = 4 plus void
    clip_logits = torch.randn(2, 3, 4) * 3
    seen = torch.tensor([True, False, False, True])
    fusion = MODELS.build(dict(type='VoidScoreFusion'))
    assert (fusion.alpha, fusion.beta) == (0.35, 0.65)  # ODISE default
    out = fusion(in_logits, clip_logits, [True, False, False, True])
    # the same rule written in probability space
    p_in = in_logits[..., :4].softmax(-1)
    p_out = clip_logits.softmax(-1)
    w = torch.tensor([0.35, 0.65, 0.65, 0.35])
    p = p_in**(1 - w) * p_out**w
    p = p / p.sum(-1, keepdim=True)
    p_void = in_logits.softmax(-1)[..., 4:]
    torch.testing.assert_close(out, torch.cat([p * (1 - p_void), p_void], -1))
    fc_clip = VoidScoreFusion(alpha=0.4, beta=0.8, log=True)
    torch.testing.assert_close(
        fc_clip(in_logits, clip_logits, seen).exp(),
        fuse_void_clip_logits(in_logits, clip_logits, seen, 0.4, 0.8))


def test_odise_rule_bad_input_is_named():
    in_logits = torch.zeros(2, 4)
    seen = torch.tensor([True, False, True])
    with pytest.raises(ValueError, match=r'expected K = 3 or K \+ 1'):
        fuse_void_clip_logits(in_logits, torch.zeros(2, 5), seen)
    with pytest.raises(ValueError, match='do not match'):
        fuse_void_clip_logits(in_logits, torch.zeros(1, 3), seen)
    with pytest.raises(ValueError, match=r'seen_mask must be \(3,\)'):
        fuse_void_clip_logits(in_logits, torch.zeros(2, 3), seen[:2])
    with pytest.raises(ValueError, match=r'beta must lie in \[0, 1\]'):
        VoidScoreFusion(beta=1.5)
