# Copyright (c) mmclipself contributors. All rights reserved.
import numpy as np
import pytest
import torch
from mmengine.config import ConfigDict

from mmclipself.registry import MODELS
from mmclipself.testing.fvit import write_vocabulary
from mmclipself.testing.maskcls import panoptic_batch, tiny_maskcls_model

TRAIN = ['person', 'car', 'sky', 'grass']  # 2 things, 2 stuff
TEST = ['car', 'zebra', 'dog', 'road, street', 'sky']


def _head(tmp_path, test=None, test_things=None, **kwargs):
    train = write_vocabulary(tmp_path / 'train.pt', TRAIN, background=True)
    test_file = None if test is None else write_vocabulary(
        tmp_path / 'test.pt', test, background=False, seed=1)
    m = tiny_maskcls_model('r50', train, 2, test_file, test_things)
    cfg = ConfigDict(
        m.panoptic_head, train_cfg=m.train_cfg, test_cfg=m.test_cfg)
    cfg.update(kwargs)
    cfg.update(type='mmclipself.OVMask2FormerHead', _scope_='mmdet')
    head = MODELS.build(cfg)
    head.init_weights()
    return head


def _feats(b=2):
    torch.manual_seed(0)
    return [
        torch.randn(b, c, 64 // s, 64 // s)
        for c, s in zip((8, 16, 32, 64), (4, 8, 16, 32))
    ]


def _unit(x):
    return x / np.linalg.norm(x, axis=-1, keepdims=True)


def test_vocabularies_and_class_weight(tmp_path):
    head = _head(tmp_path, test=TEST, test_things=3)
    assert head.train_class_names == tuple(TRAIN)  # background dropped
    assert head.class_names == tuple(TEST)
    assert (head.num_things_classes, head.num_stuff_classes,
            head.num_classes) == (2, 2, 4)
    assert head.test_num_things_classes == 3
    assert head.class_weight == [1.0] * 4 + [0.1]
    assert head.loss_cls.class_weight == [1.0] * 4 + [0.1]
    assert head.vocabulary_provenance['file'].endswith('test.pt')


def test_class_logits_are_cosine_with_the_test_vocabulary(tmp_path):
    head = _head(tmp_path, test=TEST, test_things=3).eval()
    seen = []
    head.cls_embed.register_forward_hook(lambda m, args, out: seen.append(
        (args[0], out)))
    _, samples = panoptic_batch(2)
    with torch.no_grad():
        mask_cls, mask_pred = head.predict(_feats(), samples)
    assert mask_cls.shape == (2, 6, len(TEST) + 1)
    assert mask_pred.shape == (2, 6, 64, 64)
    q, out = seen[-1]
    torch.testing.assert_close(out, mask_cls)
    file = torch.load(tmp_path / 'test.pt')
    clf = head.cls_embed
    emb = q.numpy() @ clf.proj.weight.detach().numpy().T + \
        clf.proj.bias.detach().numpy()
    classes = np.concatenate([
        file['embeddings'].numpy(),
        clf.void_embedding.detach().numpy()[None]
    ])
    expected = (1 / 0.07) * _unit(emb) @ _unit(classes).T
    np.testing.assert_allclose(
        mask_cls.numpy(), expected, rtol=1e-4, atol=1e-4)


def test_loss_uses_the_training_vocabulary(tmp_path):
    head = _head(tmp_path, test=TEST, test_things=3).train()
    widths = []
    head.cls_embed.register_forward_hook(
        lambda m, args, out: widths.append(out.shape[-1]))
    _, samples = panoptic_batch(2)
    losses = head.loss(_feats(), samples)
    assert set(widths) == {len(TRAIN) + 1}
    assert {'loss_cls', 'loss_mask', 'loss_dice', 'd0.loss_cls'} <= set(losses)
    total = sum(v for v in losses.values())
    assert torch.isfinite(total)
    total.backward()
    assert head.cls_embed.logit_scale.grad is not None
    assert head.cls_embed.void_embedding.grad is not None
    # back on the test vocabulary afterwards
    assert len(head.cls_embed.class_embeddings) == len(TEST)


def test_checkpoint_holds_no_vocabulary(tmp_path):
    a = _head(tmp_path, test=TEST, test_things=3)
    b = _head(tmp_path)  # test vocabulary = training vocabulary
    state = a.state_dict()
    assert not [k for k in state if 'embeddings' in k and 'void' not in k]
    b.load_state_dict(state, strict=True)
    assert b.class_names == tuple(TRAIN)
    b.set_vocabulary(str(tmp_path / 'test.pt'), 3)
    assert b.class_names == tuple(TEST)
    b.eval()
    a.eval()
    _, samples = panoptic_batch(1)
    with torch.no_grad():
        torch.testing.assert_close(
            a.predict(_feats(1), samples)[0],
            b.predict(_feats(1), samples)[0])


def test_bad_configs(tmp_path):
    with pytest.raises(ValueError, match='do not make the 4 classes'):
        _head(tmp_path, num_stuff_classes=1)
    with pytest.raises(ValueError, match='class_weight has 3 entries'):
        _head(
            tmp_path,
            loss_cls=dict(
                type='CrossEntropyLoss',
                use_sigmoid=False,
                class_weight=[1.0, 1.0, 0.1]))
    head = _head(tmp_path)
    other = write_vocabulary(tmp_path / 'wide.pt', TEST, dim=8)
    with pytest.raises(ValueError, match='8-d embeddings'):
        head.set_vocabulary(other)
    with pytest.raises(TypeError, match='set_vocabulary must be'):
        head.set_vocabulary(['car'])
    assert head.class_names == tuple(TRAIN)  # unchanged
