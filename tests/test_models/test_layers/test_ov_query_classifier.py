# Copyright (c) mmclipself contributors. All rights reserved.
import math

import numpy as np
import pytest
import torch

from mmclipself.models import OVQueryClassifier


def _unit(x):
    return x / np.linalg.norm(x, axis=-1, keepdims=True)


def test_logits_are_hand_cosine_times_temperature():
    torch.manual_seed(0)
    clf = OVQueryClassifier(6, 4)
    text = torch.randn(3, 4)
    q = torch.randn(2, 5, 6)
    logits = clf(q, text)
    assert logits.shape == (2, 5, 4)
    w = clf.proj.weight.detach().numpy()
    b = clf.proj.bias.detach().numpy()
    emb = q.numpy() @ w.T + b
    classes = np.concatenate([text.numpy(), clf.void_embedding.detach()[None]])
    expected = (1 / 0.07) * _unit(emb) @ _unit(classes).T
    np.testing.assert_allclose(
        logits.detach().numpy(), expected, rtol=1e-5, atol=1e-5)
    # the buffer is the default vocabulary
    clf.class_embeddings = text
    torch.testing.assert_close(clf(q), logits)


def test_temperature_learned_and_clamped():
    clf = OVQueryClassifier(6, 4)
    assert clf.logit_scale.requires_grad
    assert math.isclose(float(clf.temperature), 1 / 0.07, rel_tol=1e-6)
    with torch.no_grad():
        clf.logit_scale.fill_(math.log(500.))
    assert float(clf.temperature) == 100.
    frozen = OVQueryClassifier(6, 4, learn_logit_scale=False)
    assert not frozen.logit_scale.requires_grad


def test_no_parameter_depends_on_the_vocabulary():
    clf = OVQueryClassifier(6, 4)
    keys = set(clf.state_dict())
    assert keys == {
        'proj.weight', 'proj.bias', 'void_embedding', 'logit_scale'
    }


def test_bad_inputs():
    clf = OVQueryClassifier(6, 4)
    with pytest.raises(ValueError, match=r'\(K, 4\)'):
        clf(torch.randn(2, 6), torch.randn(3, 5))
    with pytest.raises(ValueError, match='K > 0'):
        clf(torch.randn(2, 6))  # no vocabulary set
    with pytest.raises(ValueError, match='logit_scale_init'):
        OVQueryClassifier(6, 4, logit_scale_init=200.)
