# Copyright (c) mmclipself contributors. All rights reserved.
import copy

import pytest
import torch
import torch.nn.functional as F
from mmengine.registry import DefaultScope
from mmengine.structures import PixelData
from mmseg.models.decode_heads.decode_head import BaseDecodeHead
from mmseg.structures import SegDataSample

from mmclipself.models.decode_heads import CATSegHead
from mmclipself.registry import MODELS

C, P, H = 8, 2, 8  # text channels, templates, feature map side


def _cfg(**kwargs):
    cfg = dict(
        type='mmclipself.CATSegHead',
        text_channels=C,
        appearance_channels=6,
        decoder_guidance_channels=(5, 3),
        num_classes=4,
        num_templates=P,
        hidden_channels=16,
        num_heads=2,
        window_size=4,
        appearance_proj=8,
        text_proj=8,
        decoder_channels=(16, 8),
        decoder_guidance_proj=(4, 2))
    cfg.update(kwargs)
    return cfg


def _build(**kwargs):
    torch.manual_seed(0)
    with DefaultScope.overwrite_default_scope('mmseg'):
        head = MODELS.build(_cfg(**kwargs))
    for name, p in head.named_parameters():
        if 'padding' in name:  # zero-initialised; make them matter
            p.data.normal_()
    return head


def _inputs(b=2, t=3, shared=True, seed=1):
    g = torch.Generator().manual_seed(seed)
    text = torch.randn(t, P, C, generator=g)
    if not shared:
        text = torch.randn(b, t, P, C, generator=g)
    return dict(
        dense=F.normalize(torch.randn(b, C, H, H, generator=g), dim=1),
        text=F.normalize(text, dim=-1),
        appearance=torch.randn(b, 6, H, H, generator=g),
        decoder_guidance=[
            torch.randn(b, 5, 2 * H, 2 * H, generator=g),
            torch.randn(b, 3, 4 * H, 4 * H, generator=g)
        ])


def _samples(label):
    out = []
    for lab in label:
        s = SegDataSample()
        s.gt_sem_seg = PixelData(data=lab[None])
        s.set_metainfo(dict(img_shape=tuple(lab.shape)))
        out.append(s)
    return out


def test_builds_in_mmseg_scope():
    head = _build(pad_len=4)
    assert isinstance(head, CATSegHead) and isinstance(head, BaseDecodeHead)
    assert not hasattr(head, 'conv_seg')
    assert not hasattr(head, 'loss_decode')
    with pytest.raises(ValueError, match='in_channels'):
        _build(in_channels=C + 1)
    with pytest.raises(ValueError, match='ignore_mode'):
        _build(ignore_mode='skip')


@pytest.mark.parametrize('pad_len,t,shared', [(None, 3, True), (4, 3, False),
                                              (4, 6, True), (4, 6, False)])
def test_output_shapes(pad_len, t, shared):
    head = _build(pad_len=pad_len)
    for mode in (True, False):
        head.train(mode)
        with torch.no_grad():
            out = head(_inputs(t=t, shared=shared))
        assert out.shape == (2, t, 4 * H, 4 * H)


def test_top_k_selection_by_hand():
    """T > pad_len: kept classes = the head on those classes alone."""
    head = _build(pad_len=4).eval()
    inputs = _inputs(t=6, shared=True)
    with torch.no_grad():
        out = head(inputs)
    dense, text = inputs['dense'], inputs['text']
    for b in range(2):
        scores = []
        for t in range(6):
            best = max(
                float(dense[b, :, y, x] @ text[t, p]) for p in range(P)
                for y in range(H) for x in range(H))
            scores.append(best)
        kept = sorted(sorted(range(6), key=lambda i: -scores[i])[:4])
        dropped = [i for i in range(6) if i not in kept]
        assert (out[b, dropped] == -100.0).all()
        alone = dict(
            dense=dense[b:b + 1],
            text=text[kept],
            appearance=inputs['appearance'][b:b + 1],
            decoder_guidance=[g[b:b + 1] for g in inputs['decoder_guidance']])
        with torch.no_grad():
            ref = head(alone)
        torch.testing.assert_close(out[b, kept], ref[0], rtol=1e-4, atol=1e-4)


def test_eval_uses_test_pooling():
    head = _build(pooling_size=(2, 2), test_pooling_size=(1, 1))
    same = _build(pooling_size=(1, 1))
    same.load_state_dict(head.state_dict())
    inputs = _inputs()
    with torch.no_grad():
        train_out = head.train()(inputs)
        eval_out = head.eval()(inputs)
        torch.testing.assert_close(eval_out, same.train()(inputs))
    assert not torch.allclose(train_out, eval_out, atol=1e-4)


def _hand_bce(logits, label, ignore_mode):
    b, t, h, w = logits.shape
    total, count = 0.0, 0
    for i in range(b):
        for y in range(h):
            for x in range(w):
                lab = int(label[i, y, x])
                if lab == 255 and ignore_mode == 'exclude':
                    continue
                for c in range(t):
                    z = float(logits[i, c, y, x])
                    target = 1.0 if lab == c else 0.0
                    p = 1 / (1 + torch.exp(torch.tensor(-z)).item())
                    total -= target * torch.log(torch.tensor(p)).item() + (
                        1 - target) * torch.log(torch.tensor(1 - p)).item()
                    count += 1
    return total / count


@pytest.mark.parametrize('ignore_mode', ['release', 'exclude'])
def test_bce_loss_by_hand(ignore_mode):
    head = _build(ignore_mode=ignore_mode, loss_weight=2.0)
    g = torch.Generator().manual_seed(3)
    logits = torch.randn(2, 3, 5, 5, generator=g)
    label = torch.randint(0, 3, (2, 10, 10), generator=g)
    label[0, :4, :3] = 255
    label[1, 7:, 2:] = 255
    losses = head.loss_by_feat(logits, _samples(label))
    resized = F.interpolate(
        logits, (10, 10), mode='bilinear', align_corners=False)
    expected = 2.0 * _hand_bce(resized, label, ignore_mode)
    assert abs(float(losses['loss_bce']) - expected) < 1e-5
    assert 'acc_seg' in losses
    label[1, 0, 0] = 3  # a class outside the vocabulary of 3
    with pytest.raises(ValueError, match='label value 3'):
        head.loss_by_feat(logits, _samples(label))


def _loss_and_grads(head, inputs, label):
    head.zero_grad()
    losses = head.loss(inputs, _samples(label), train_cfg={})
    loss = sum(v for k, v in losses.items() if 'loss' in k)
    loss.backward()
    return loss.detach(), {
        n: (None if p.grad is None else p.grad.clone())
        for n, p in head.named_parameters()
    }


def test_gradients_reach_every_parameter_and_with_cp_matches():
    head = _build(pad_len=4).train()
    inputs = _inputs(t=3)
    label = torch.randint(0, 3, (2, 4 * H, 4 * H))
    label[:, :2] = 255
    loss, grads = _loss_and_grads(head, inputs, label)
    unused = [n for n, g in grads.items() if g is None or not g.any()]
    assert not unused, f'parameters without gradient: {unused}'
    cp = _build(pad_len=4, with_cp=True).train()
    cp.load_state_dict(head.state_dict())
    cp_loss, cp_grads = _loss_and_grads(cp, inputs, label)
    torch.testing.assert_close(cp_loss, loss)
    for n, g in grads.items():
        torch.testing.assert_close(cp_grads[n], g, rtol=1e-4, atol=1e-6)


def test_predict_resizes_to_input():
    head = _build().eval()
    metas = [dict(img_shape=(40, 40), pad_shape=(40, 40))] * 2
    with torch.no_grad():
        out = head.predict(_inputs(), metas, test_cfg={})
        logits = head(_inputs())
    assert out.shape == (2, 3, 40, 40)
    torch.testing.assert_close(
        out,
        F.interpolate(logits, (40, 40), mode='bilinear', align_corners=False))


def test_bad_inputs_are_named():
    head = _build()
    inputs = _inputs()
    with pytest.raises(KeyError, match='appearance'):
        head({k: v for k, v in inputs.items() if k != 'appearance'})
    bad = copy.copy(inputs)
    bad['text'] = torch.randn(3, P + 1, C)
    with pytest.raises(ValueError, match='text'):
        head(bad)
    bad = copy.copy(inputs)
    bad['decoder_guidance'] = inputs['decoder_guidance'][::-1]
    with pytest.raises(ValueError, match='decoder_guidance'):
        head(bad)
    bad = copy.copy(inputs)
    bad['appearance'] = inputs['appearance'][:1]
    with pytest.raises(ValueError, match='appearance'):
        head(bad)
