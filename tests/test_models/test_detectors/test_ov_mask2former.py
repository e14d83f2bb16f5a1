# Copyright (c) mmclipself contributors. All rights reserved.
import copy
from unittest import mock

import numpy as np
import pytest
import torch
from mmengine.optim import build_optim_wrapper

from mmclipself.models.detectors.ov_mask2former import CLIP_MEAN, CLIP_STD
from mmclipself.registry import MODELS
from mmclipself.testing.fvit import write_tower, write_vocabulary
from mmclipself.testing.maskcls import panoptic_batch, tiny_maskcls_model

TRAIN = ['person', 'car', 'road', 'grass']  # 2 things, then 2 stuff
# zebra unseen, car seen, "street, road" seen through its synonym, sky unseen
TEST = ['zebra', 'car', 'street, road', 'sky']
ALPHA, BETA = 0.35, 0.65


def _build(tmp_path,
           backbone='r50',
           test=TEST,
           test_things=2,
           seed=1,
           **kwargs):
    train = tmp_path / 'train.pt'
    if not train.exists():
        write_vocabulary(train, TRAIN, background=True)
    test_file = None
    if test is not None:
        test_file = str(tmp_path / f'test{seed}.pt')
        write_vocabulary(test_file, test, background=False, seed=seed)
    tower = None
    if backbone == 'pyramid':
        tower = tmp_path / 'tower.pth'
        if not tower.exists():
            write_tower(tower)
        tower = str(tower)
    cfg = tiny_maskcls_model(backbone, str(train), 2, test_file, test_things,
                             tower, **kwargs)
    model = MODELS.build(cfg)
    model.init_weights()
    return model


def _softmax(x):
    e = np.exp(x - x.max(-1, keepdims=True))
    return e / e.sum(-1, keepdims=True)


def _hand_fused(in_logits, clip_logits, seen, alpha, beta):
    """Facts §1.4, written out per entry."""
    k = clip_logits.shape[-1]
    p_in = _softmax(in_logits[..., :k])
    p_out = _softmax(clip_logits)
    p_void = _softmax(in_logits)[..., k:]
    w = np.where(seen, alpha, beta)
    g = p_in**(1 - w) * p_out**w
    g = g / g.sum(-1, keepdims=True)
    return np.concatenate([g * (1 - p_void), p_void], -1)


def test_seen_mask_follows_synonyms(tmp_path):
    model = _build(tmp_path)
    assert model.seen_mask.tolist() == [False, True, True, False]
    assert model.class_names == tuple(TEST)
    assert model.train_class_names == tuple(TRAIN)
    assert (model.num_classes, model.num_things_classes) == (4, 2)
    fusion = model.panoptic_fusion_head
    assert (fusion.num_classes, fusion.num_things_classes) == (4, 2)


@pytest.mark.parametrize('mode', ['fused', 'clip_only', 'none'])
def test_fused_scores_are_hand_computation(tmp_path, mode):
    model = _build(tmp_path, clip_mode=mode)
    in_logits = torch.tensor([[[2.0, 0.5, -1.0, 0.3, 1.2],
                               [-0.5, 1.5, 0.2, 0.1, -2.0],
                               [0.0, 0.0, 0.0, 0.0, 3.0]]])
    clip_logits = torch.tensor([[[10., 30., 20., 25.], [28., 21., 22., 20.],
                                 [20., 20., 35., 20.]]])
    out = model.fuse_scores(in_logits, clip_logits)
    if mode == 'none':
        assert torch.equal(out, in_logits)
        return
    a, b = (ALPHA, BETA) if mode == 'fused' else (1., 1.)
    expected = _hand_fused(in_logits.numpy(), clip_logits.numpy(),
                           np.array([False, True, True, False]), a, b)
    np.testing.assert_allclose(out.exp().numpy(), expected, rtol=1e-5)
    if mode == 'clip_only':  # CLIP decides the class, the head the void
        np.testing.assert_allclose(
            expected[..., :4],
            _softmax(clip_logits.numpy()) * (1 - expected[..., 4:]),
            rtol=1e-6)


@pytest.mark.parametrize('pooling', ['binary', 'soft'])
def test_clip_logits_are_hand_mask_pooling(tmp_path, pooling):
    model = _build(tmp_path, mask_pooling=pooling)
    torch.manual_seed(0)
    dense = torch.randn(1, 16, 2, 2)
    logits = torch.full((1, 2, 4, 4), -5.)
    logits[0, 0, :2, :2] = 5.  # the top-left cell
    logits[0, 0, 0, 2] = 5.  # a quarter of the top-right cell
    logits[0, 1] = torch.linspace(-1, 1, 16).view(4, 4)
    got = model.clip_logits(dense, logits)
    feats = dense[0].numpy()
    feats = feats / np.linalg.norm(feats, axis=0, keepdims=True)
    weights = logits[0].double().numpy()
    weights = (weights
               > 0) * 1. if pooling == 'binary' else 1 / (1 + np.exp(-weights))
    text = torch.load(tmp_path / 'test1.pt')['embeddings'].numpy()
    text = text / np.linalg.norm(text, axis=-1, keepdims=True)
    for q in range(2):
        cover = weights[q].reshape(2, 2, 2, 2).mean((1, 3))  # per cell
        pooled = (feats * cover).sum((1, 2)) / cover.sum()
        pooled = pooled / np.linalg.norm(pooled)
        np.testing.assert_allclose(
            got[0, q].numpy(), 100. * text @ pooled, rtol=1e-4, atol=1e-4)


def _train_step(model):
    inputs, samples = panoptic_batch(2)
    data = dict(inputs=list(inputs.to(torch.uint8)), data_samples=samples)
    optim = build_optim_wrapper(
        model,
        dict(
            type='OptimWrapper',
            optimizer=dict(type='AdamW', lr=1e-3, weight_decay=0.05)))
    model.train()
    return model.train_step(data, optim)


@pytest.mark.parametrize('backbone', ['r50', 'pyramid'])
def test_loss_trains_and_the_clip_tower_stays_frozen(tmp_path, backbone):
    model = _build(tmp_path, backbone)
    tower = model.dense_tower
    before = copy.deepcopy(tower.state_dict())
    head_before = model.panoptic_head.cls_embed.proj.weight.clone()
    log = _train_step(model)
    assert torch.isfinite(log['loss'])
    assert {'loss_cls', 'loss_mask', 'loss_dice'} <= set(log)
    assert all(p.grad is None for p in tower.parameters())
    after = tower.state_dict()
    assert all(torch.equal(before[k], after[k]) for k in before)
    assert not tower.training  # frozen parts stay in eval mode
    assert not torch.equal(model.panoptic_head.cls_embed.proj.weight,
                           head_before)
    prefix = 'clip_tower.' if backbone == 'r50' else 'backbone.clip.'
    stored = [k for k in model.state_dict() if k.startswith(prefix)]
    assert stored == [prefix + '__frozen__']  # only its record is stored


def _predict(model, n=2, **test_cfg):
    inputs, samples = panoptic_batch(n)
    for s in samples:
        s.set_metainfo(dict(ori_shape=(96, 96), scale_factor=(2 / 3, 2 / 3)))
    test_cfg = dict(dict(max_per_image=5), **test_cfg)  # 6 queries
    model.test_cfg.update(test_cfg)
    model.panoptic_fusion_head.test_cfg.update(test_cfg)
    data = dict(inputs=list(inputs.to(torch.uint8)), data_samples=samples)
    model.eval()
    return model.test_step(data)


def test_pyramid_tower_runs_once_per_batch(tmp_path):
    model = _build(tmp_path, 'pyramid')
    clip = model.backbone.clip
    for mode in ('fused', 'none'):
        model.clip_mode = mode
        with mock.patch.object(
                clip, 'forward_tokens', wraps=clip.forward_tokens) as spy:
            _predict(model, 2)
        assert spy.call_count == 1, mode


def test_r50_clip_tower_input_is_clip_normalised(tmp_path):
    model = _build(tmp_path, 'r50')
    tower = model.clip_tower
    with mock.patch.object(
            tower, 'forward_dense', wraps=tower.forward_dense) as spy:
        _predict(model, 2)
    assert spy.call_count == 1
    (x, ), _ = spy.call_args
    raw, _ = panoptic_batch(2)
    raw = raw.to(torch.uint8).float()[:, [2, 1, 0]]  # BGR -> RGB
    mean = torch.tensor(CLIP_MEAN).view(3, 1, 1)
    std = torch.tensor(CLIP_STD).view(3, 1, 1)
    torch.testing.assert_close(x, (raw - mean) / std, atol=1e-4, rtol=1e-4)
    model.clip_mode = 'none'
    with mock.patch.object(tower, 'forward_dense') as spy:
        _predict(model, 1)
    assert spy.call_count == 0


def test_predict_returns_panoptic_instance_and_semantic(tmp_path):
    model = _build(tmp_path, 'r50')
    out = _predict(
        model, 2, panoptic_on=True, instance_on=True, semantic_on=True)
    for s in out:
        pan = s.pred_panoptic_seg.sem_seg
        assert pan.shape == (1, 96, 96)
        sem = s.pred_sem_seg.sem_seg
        assert sem.shape == (1, 96, 96)
        assert 0 <= int(sem.min()) and int(sem.max()) < len(TEST)
        ins = s.pred_instances
        assert ins.masks.shape[-2:] == (96, 96)
        assert len(ins) <= 5 and bool((ins.labels < 2).all())  # things
        ids = pan.unique()
        cls = ids % 1000
        assert bool(((cls < len(TEST)) | (ids == len(TEST))).all())


def test_vocabulary_switch_without_checkpoint_surgery(tmp_path):
    a = _build(tmp_path, 'pyramid', test=TEST, seed=1)
    other = ['tree', 'bus', 'car', 'house', 'road']
    b = _build(tmp_path, 'pyramid', test=other, test_things=3, seed=2)
    assert b.class_names == tuple(other)
    assert b.seen_mask.tolist() == [False, False, True, False, True]
    b.load_state_dict(a.state_dict(), strict=True)
    b.set_vocabulary(str(tmp_path / 'test1.pt'), num_things_classes=2)
    assert b.class_names == tuple(TEST)
    assert b.seen_mask.tolist() == a.seen_mask.tolist()
    assert b.panoptic_fusion_head.num_classes == len(TEST)
    scores = []
    for model in (a, b):
        fusion = model.panoptic_fusion_head
        with mock.patch.object(fusion, 'predict', wraps=fusion.predict) as spy:
            _predict(model, 1, semantic_on=True)
        scores.append(spy.call_args[0][0])  # fused log-probs (1, Q, K + 1)
    assert scores[0].shape == (1, 6, len(TEST) + 1)
    torch.testing.assert_close(scores[0], scores[1])


def test_bad_configs(tmp_path):
    with pytest.raises(ValueError, match='clip_mode must be one of'):
        _build(tmp_path, clip_mode='clip')
    with pytest.raises(ValueError, match='score_fusion'):
        _build(tmp_path, score_fusion=dict(alpha=1.5))
    with pytest.raises(TypeError, match='needs a dense CLIP map'):
        _build(tmp_path, clip_tower=None)
    write_vocabulary(tmp_path / 'wide.pt', TRAIN, dim=8)
    with pytest.raises(ValueError, match='embeds into 16-d'):
        cfg = tiny_maskcls_model('r50', str(tmp_path / 'wide.pt'), 2)
        MODELS.build(cfg)


def test_masks_are_cut_to_each_image_before_pooling(tmp_path):
    model = _build(tmp_path)
    torch.manual_seed(0)
    dense = torch.randn(2, 16, 2, 2)
    logits = torch.randn(2, 2, 4, 4)
    # image 0 fills the padded input; image 1 is its top-left 2x2 only
    got = model.clip_logits(dense, logits, [(4, 4), (2, 2)])
    cut = logits.clone()
    cut[1, :, 2:] = -1.
    cut[1, :, :, 2:] = -1.
    torch.testing.assert_close(got, model.clip_logits(dense, cut))
    assert not torch.allclose(got[1], model.clip_logits(dense, logits)[1])


def test_a_test_vocabulary_of_another_clip_fails_at_build(tmp_path):
    """Three 768-d CLIPs here: a width check alone would not catch it."""
    from mmclipself.vocab import Vocabulary, save_vocabulary
    names = ['cat', 'wall']
    for model_name in ('ViT-L-14-336-quickgelu', 'ViT-L-14-quickgelu'):
        save_vocabulary(
            Vocabulary(
                names, torch.eye(2, 768), provenance=dict(model=model_name)),
            str(tmp_path / f'{model_name}.pt'))
    cfg = tiny_maskcls_model(
        'r50', str(tmp_path / 'ViT-L-14-336-quickgelu.pt'), 1,
        str(tmp_path / 'ViT-L-14-quickgelu.pt'), 1)
    cfg.clip_tower = dict(
        type='mmclipself.OpenAICLIPViT',
        arch='vit-l14-336',
        pretrained=None)
    with torch.device('meta'):
        with pytest.raises(ValueError,
                           match='panoptic_head.test_vocabulary'):
            MODELS.build(cfg)
        cfg.panoptic_head.test_vocabulary = str(
            tmp_path / 'ViT-L-14-336-quickgelu.pt')
        model = MODELS.build(cfg)  # the matching one builds
    assert model.class_names == tuple(names)


def test_an_r50_checkpoint_tests_with_another_tower(tmp_path):
    """The R50 model's CLIP tower is swappable (Table 5's comparison)."""
    tower_a, tower_b = tmp_path / 'a.pth', tmp_path / 'b.pth'
    from mmclipself.testing.maskcls import write_openai_tower
    write_openai_tower(tower_a, seed=0)
    write_openai_tower(tower_b, seed=1)
    train = tmp_path / 'train.pt'
    write_vocabulary(train, TRAIN, background=True)
    models = []
    for tower in (tower_a, tower_b):
        cfg = tiny_maskcls_model('r50', str(train), 2)
        cfg.clip_tower.pretrained = str(tower)
        model = MODELS.build(cfg)
        model.init_weights()
        models.append(model)
    state = models[0].state_dict()
    with pytest.warns(UserWarning, match='swappable'):
        models[1].load_state_dict(state, strict=True)
    # the mask generator and head are the checkpoint's, the tower is b's
    for k, v in state.items():
        if not k.startswith('clip_tower.'):
            torch.testing.assert_close(models[1].state_dict()[k], v)
    b = torch.load(tower_b, weights_only=True)
    own = models[1].clip_tower.tower().state_dict()
    assert all(torch.equal(own[k], b[k]) for k in b)


def test_more_classes_than_the_panoptic_id_range_fail(tmp_path):
    write_vocabulary(tmp_path / 'big.pt', [f'c{i}' for i in range(1000)],
                     background=False)
    model = _build(tmp_path)
    with pytest.raises(ValueError, match='at most 999 classes'):
        model.set_vocabulary(str(tmp_path / 'big.pt'))


def test_fusion_head_keeps_masks_of_a_fused_distribution_by_default():
    from mmclipself.models.seg_heads import OVMaskFormerFusionHead
    head = OVMaskFormerFusionHead(num_things_classes=1, num_stuff_classes=1)
    assert head.test_cfg.object_mask_thr == 0.0  # ODISE / FC-CLIP
    head = OVMaskFormerFusionHead(
        num_things_classes=1,
        num_stuff_classes=1,
        test_cfg=dict(object_mask_thr=0.8))
    assert head.test_cfg.object_mask_thr == 0.8
