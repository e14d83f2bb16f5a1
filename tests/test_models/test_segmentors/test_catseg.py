# Copyright (c) mmclipself contributors. All rights reserved.
"""CATSeg on tiny random towers, with a probe head of known output."""
import copy
from types import SimpleNamespace

import mmcv
import numpy as np
import pytest
import torch
import torch.nn as nn
import torch.nn.functional as F
from mmengine.logging import MessageHub
from mmengine.optim import OptimWrapper
from mmengine.registry import DefaultScope
from mmengine.structures import PixelData
from mmseg.models.decode_heads.decode_head import BaseDecodeHead
from mmseg.structures import SegDataSample
from skimage import data as skdata

from mmclipself.engine.hooks import NonFiniteLossHook, VocabularyCheckHook
from mmclipself.engine.hooks.vocabulary_check_hook import find_vocabulary
from mmclipself.models.utils.frozen import FROZEN_RECORD_KEY
from mmclipself.registry import MODELS
from mmclipself.testing.text import tiny_clip_cfg
from mmclipself.testing.towers import TINY_OPENAI
from mmclipself.vocab import embed_class_names, get_templates

CLIP_MEAN = [122.7709383, 116.7460125, 104.09373615]
CLIP_STD = [68.5005327, 66.6321579, 70.3231630]
QV_IMAGE = 'visual.transformer.resblocks.*.attn.[qv]_proj.weight'
QV_TEXT = 'text.transformer.resblocks.*.attn.[qv]_proj.weight'
TRAIN = ['cat', 'dog, puppy', 'sky']
PROBE = 'CATSegProbeHead'


class ProbeHead(BaseDecodeHead):
    """A head with a known output (hand-computable from its inputs).

    ``logits = up4(scale * <dense, mean_P(text)> + a * mean_C(appearance))
    + g * (up2(mean_C(guidance[0])) + mean_C(guidance[1]))``, nearest
    upsampling; BCE against one-hot labels (ignored pixels all-zero).
    """

    def __init__(self, num_classes, **kwargs):
        super().__init__(
            in_channels=16,
            channels=16,
            num_classes=num_classes,
            loss_decode=[],
            init_cfg=None,
            **kwargs)
        del self.conv_seg, self.loss_decode
        self.scale = nn.Parameter(torch.tensor(5.0))
        self.app_weight = nn.Parameter(torch.tensor(0.1))
        self.guide_weight = nn.Parameter(torch.tensor(0.1))

    def forward(self, inputs):
        return probe_logits(inputs, self.scale, self.app_weight,
                            self.guide_weight)

    def loss_by_feat(self, seg_logits, batch_data_samples):
        label = self._stack_batch_gt(batch_data_samples).squeeze(1)
        logits = F.interpolate(
            seg_logits, label.shape[-2:], mode='bilinear', align_corners=False)
        valid = (label != 255).unsqueeze(1)
        classes = torch.arange(logits.shape[1]).view(1, -1, 1, 1)
        target = ((label.unsqueeze(1) == classes) & valid).float()
        return dict(
            loss_bce=F.binary_cross_entropy_with_logits(logits, target))


def probe_logits(inputs, scale, app_weight, guide_weight):
    """The probe head's formula (also the tests' hand computation)."""
    dense, text = inputs['dense'], inputs['text']
    cost = torch.einsum('bchw,tc->bthw', dense,
                        F.normalize(text.mean(1), dim=-1))
    app = inputs['appearance'].mean(1, keepdim=True)
    x = F.interpolate(scale * cost + app_weight * app, scale_factor=4.)
    g0, g1 = inputs['decoder_guidance']
    guide = F.interpolate(g0.mean(1, keepdim=True), scale_factor=2.)
    return x + guide_weight * (guide + g1.mean(1, keepdim=True))


@pytest.fixture
def probe():
    MODELS.register_module(name=PROBE, module=ProbeHead)
    yield f'mmclipself.{PROBE}'
    MODELS._module_dict.pop(PROBE)


def _cfg(head, version='cvpr', **kwargs):
    """A tiny CATSeg config: 32x32 CLIP input (4x4 grid), views of 48."""
    tower = dict(type='mmclipself.OpenAICLIPViT', arch=TINY_OPENAI)
    text = dict(
        type='mmclipself.CLIPTextEncoder',
        model_name='TinyCLIP-catseg-test',
        model_cfg=tiny_clip_cfg())
    if version == 'cvpr':
        tower.update(out_indices=(0, 1), train_patterns=[QV_IMAGE])
        text.update(train_patterns=[QV_TEXT])
        extra = dict(
            tap_guidance=dict(
                type='mmclipself.CLIPTapGuidance',
                in_channels=32,
                out_channels=(8, 4)))
        channels = (16, (8, 4))
    else:  # 2023: a tiny mmseg ResNet guidance backbone, frozen text
        tower.update(train_patterns=[
            'visual.transformer.resblocks.*.attn.*',
            'visual.positional_embedding'
        ])
        extra = dict(
            guidance_backbone=dict(
                type='ResNet',
                depth=18,
                stem_channels=8,
                base_channels=8,
                num_stages=3,
                strides=(1, 2, 2),
                dilations=(1, 1, 1),
                out_indices=(0, 1, 2),
                norm_cfg=dict(type='BN', requires_grad=False),
                norm_eval=True),
            guidance_resolution=(64, 64),
            templates='imagenet_select',
            synonyms='mean')
        channels = (32, (16, 8))
    if head == 'real':
        head_cfg = dict(
            type='mmclipself.CATSegHead',
            text_channels=16,
            appearance_channels=channels[0],
            decoder_guidance_channels=channels[1],
            num_classes=len(TRAIN),
            num_templates=1 if version == 'cvpr' else 8,
            hidden_channels=16,
            num_heads=2,
            window_size=4,
            appearance_proj=8,
            text_proj=8,
            decoder_channels=(8, 8),
            decoder_guidance_proj=(4, 4))
    else:
        head_cfg = dict(type=head, num_classes=len(TRAIN))
    cfg = dict(
        type='mmclipself.CATSeg',
        data_preprocessor=dict(
            type='SegDataPreProcessor',
            mean=CLIP_MEAN,
            std=CLIP_STD,
            bgr_to_rgb=True,
            size=(48, 48),
            pad_val=0,
            seg_pad_val=255),
        clip_tower=tower,
        text_encoder=text,
        decode_head=head_cfg,
        clip_resolution=(32, 32),
        train_vocabulary=TRAIN,
        test_cfg=dict(mode='catseg', crop_size=48, stride=32, out_size=80),
        **extra)
    cfg.update(kwargs)
    return cfg


def _build(cfg, seed=0):
    torch.manual_seed(seed)
    with DefaultScope.overwrite_default_scope('mmseg'):
        model = MODELS.build(copy.deepcopy(cfg))
    model.init_weights()
    return model


def _photos(size):
    """Real photos, uint8 (3, size, size) RGB tensors."""
    out = []
    for img in (skdata.astronaut(), skdata.coffee()):
        img = mmcv.imresize(img, (size, size))
        out.append(
            torch.from_numpy(np.ascontiguousarray(img)).permute(2, 0, 1))
    return out


def _train_batch(num_classes=3):
    samples = []
    for i in range(2):  # hand-made label maps: bands, one ignored block
        label = torch.zeros(1, 48, 48, dtype=torch.long)
        label[:, 16:32] = 1 % num_classes
        label[:, 32:] = 2 % num_classes
        label[:, :8, :8] = 255
        s = SegDataSample(
            gt_sem_seg=PixelData(data=label.flip(-1) if i else label))
        s.set_metainfo(dict(img_shape=(48, 48), ori_shape=(48, 48)))
        samples.append(s)
    return dict(inputs=_photos(48), data_samples=samples)


def _test_batch(ori_shape=(80, 80)):
    samples = []
    for _ in range(2):
        s = SegDataSample()
        s.set_metainfo(dict(img_shape=(80, 80), ori_shape=ori_shape))
        samples.append(s)
    return dict(inputs=_photos(80), data_samples=samples)


def _hand_five_views(model, image, global_source=None):
    """The release protocol for one image, view by view (facts §2.4).

    Every view runs alone through the tower, the tap projector and the
    probe formula; windows are accumulated with an explicit count map. The
    windows come from ``image`` (80x80), the global view from
    ``global_source`` (the un-squashed input; default ``image``).
    """
    head = model.decode_head
    text = model.text_embeddings('test')
    acc = torch.zeros(len(model.class_names), 80, 80)
    count = torch.zeros(80, 80)
    views = [(y, x, image[:, :, y:y + 48, x:x + 48]) for y in (0, 32)
             for x in (0, 32)]
    source = image if global_source is None else global_source
    views.append((None, None, F.interpolate(source, (48, 48),
                                            mode='bilinear')))
    for y, x, view in views:
        clip_in = F.interpolate(view, (32, 32), mode='bilinear')
        taps, dense = model.clip_tower.forward_featmaps(
            clip_in, with_dense=True)
        inputs = dict(
            dense=dense,
            text=text,
            appearance=dense,
            decoder_guidance=model.tap_guidance(taps))
        logits = probe_logits(inputs, head.scale, head.app_weight,
                              head.guide_weight)
        prob = F.interpolate(logits, (48, 48), mode='bilinear').sigmoid()[0]
        if y is None:
            glob = F.interpolate(prob[None], (80, 80), mode='bilinear')[0]
        else:
            acc[:, y:y + 48, x:x + 48] += prob
            count[y:y + 48, x:x + 48] += 1
    # the count map by hand: 1 in the corners, 2 on the bands, 4 inside
    assert count[0, 0] == 1 and count[0, 40] == 2 and count[40, 40] == 4
    return acc / count, glob


@torch.no_grad()
def test_five_view_inference_is_the_hand_computed_average(probe):
    model = _build(_cfg(probe, test_vocabulary=['grass', 'cat', 'sky', 'x']))
    model.eval()
    data = model.data_preprocessor(_test_batch(), False)
    results = model(**data, mode='predict')
    assert len(results) == 2
    for i, res in enumerate(results):
        local, glob = _hand_five_views(model, data['inputs'][i:i + 1])
        expected = (local + glob) / 2
        assert res.seg_logits.data.shape == (4, 80, 80)
        torch.testing.assert_close(
            res.seg_logits.data, expected, atol=1e-5, rtol=1e-5)
        assert torch.equal(res.pred_sem_seg.data[0], expected.argmax(0))
    # mmseg's slide mode averages the window probabilities: the local term
    model.test_cfg = type(model.test_cfg)(
        mode='slide', crop_size=(48, 48), stride=(32, 32))
    slide = model.inference(data['inputs'],
                            [s.metainfo for s in data['data_samples']])
    local, _ = _hand_five_views(model, data['inputs'][1:])
    torch.testing.assert_close(slide[1], local, atol=1e-5, rtol=1e-5)


@torch.no_grad()
def test_whole_mode_and_other_sizes(probe):
    model = _build(_cfg(probe, test_cfg=dict(mode='whole')))
    model.eval()
    data = model.data_preprocessor(_test_batch(ori_shape=(100, 90)), False)
    res = model(**data, mode='predict')
    x = data['inputs'][:1]
    clip_in = F.interpolate(x, (32, 32), mode='bilinear')
    taps, dense = model.clip_tower.forward_featmaps(clip_in, with_dense=True)
    head = model.decode_head
    logits = probe_logits(
        dict(
            dense=dense,
            text=model.text_embeddings('test'),
            appearance=dense,
            decoder_guidance=model.tap_guidance(taps)), head.scale,
        head.app_weight, head.guide_weight)
    prob = F.interpolate(logits, (80, 80), mode='bilinear').sigmoid()
    prob = F.interpolate(prob, (100, 90), mode='bilinear')[0]
    torch.testing.assert_close(res[0].seg_logits.data, prob)
    # the release protocol on a non-square input: the windows come from the
    # input squashed to out_size, the global view from the input itself,
    # and the average is resized back to the input size
    model.test_cfg = type(model.test_cfg)(
        mode='catseg', crop_size=48, stride=32, out_size=80)
    big = F.interpolate(x, (96, 120), mode='bilinear')
    out = model.inference(big, [{}])
    local, glob = _hand_five_views(
        model,
        F.interpolate(big, (80, 80), mode='bilinear'),
        global_source=big)
    ref = F.interpolate(((local + glob) / 2)[None], (96, 120), mode='bilinear')
    torch.testing.assert_close(out, ref, atol=1e-5, rtol=1e-5)
    # not the old shortcut (global view from the squashed image)
    squashed = model.inference(
        F.interpolate(big, (80, 80), mode='bilinear'), [{}])
    assert not torch.allclose(
        out, F.interpolate(squashed, (96, 120), mode='bilinear'), atol=1e-4)


@torch.no_grad()
def test_batched_views_equal_each_image_alone(probe):
    model = _build(_cfg(probe))
    model.eval()
    data = model.data_preprocessor(_test_batch(), False)
    both = model.inference(data['inputs'], [{}, {}])
    for i in range(2):
        alone = model.inference(data['inputs'][i:i + 1], [{}])
        torch.testing.assert_close(both[i:i + 1], alone, atol=1e-5, rtol=0)


def _step(model, lr=1e-2):
    params = [p for p in model.parameters() if p.requires_grad]
    wrapper = OptimWrapper(torch.optim.AdamW(params, lr=lr))
    before = {k: v.clone() for k, v in model.state_dict().items()}
    model.train()
    log = model.train_step(_train_batch(), wrapper)
    after = model.state_dict()
    moved = {k for k in before if not torch.equal(before[k], after[k])}
    return log, moved, before


def test_cvpr_trains_only_qv_weights_of_both_towers(probe):
    model = _build(_cfg(probe))
    names = [n for n, p in model.named_parameters() if p.requires_grad]
    towers = [n for n in names if n.startswith(('clip_tower', 'text_'))]
    qv = {
        f'clip_tower.visual.transformer.resblocks.{i}.attn.{x}_proj.weight'
        for i in range(3)
        for x in 'qv'
    } | {
        f'text_encoder.text.transformer.resblocks.0.attn.{x}_proj.weight'
        for x in 'qv'
    }
    assert set(towers) == qv
    log, moved, _ = _step(model)
    assert torch.isfinite(log['loss'])
    # the NonFiniteLossHook checks what a checkpoint saves: the text
    # tower's causal mask (a non-persistent buffer of -inf) is not a weight
    assert not torch.isfinite(model.text_encoder.text.attn_mask).all()
    NonFiniteLossHook()._check_model(
        SimpleNamespace(model=model, message_hub=MessageHub('catseg')), 'x')
    # every q/v weight moved but the last image block's q (the dense map
    # runs that block value-only, facts §1.1: no gradient reaches it);
    # every other tower tensor is bit-identical
    moved_towers = {k for k in moved if k.startswith(('clip_tower', 'text_'))}
    assert moved_towers == qv - {
        'clip_tower.visual.transformer.resblocks.2.attn.q_proj.weight'
    }
    assert {k
            for k in moved if k.startswith('tap_guidance')} == {
                f'tap_guidance.upsamples.{i}.{w}'
                for i in range(2)
                for w in ('weight', 'bias')
            }


def test_cvpr_text_embeddings_train_per_iteration_and_cache_in_eval(probe):
    model = _build(_cfg(probe))
    model.train()
    a = model.text_embeddings('train')
    assert a.requires_grad and model.text_embeddings('train') is not a
    assert not model._text_cache  # never cached while the tower trains
    model.eval()
    e = model.text_embeddings('test')
    assert not e.requires_grad and model.text_embeddings('test') is e
    model.train()
    assert not model._text_cache  # dropped: the weights will change
    # the numbers of the vocabulary encoder, first synonym only (CVPR)
    ref = embed_class_names(
        model.text_encoder, ['cat', 'dog', 'sky'],
        templates='catseg_cvpr',
        this_is=False).per_template
    torch.testing.assert_close(e, ref)
    assert get_templates('catseg_cvpr')[1] == (
        'A photo of a {} in the scene', )


def test_2023_trains_visual_attention_and_position_embedding(probe):
    model = _build(_cfg(probe, version='2023'))
    names = [n for n, p in model.named_parameters() if p.requires_grad]
    tower = {n for n in names if n.startswith('clip_tower')}
    expected = {'clip_tower.visual.positional_embedding'} | {
        f'clip_tower.visual.transformer.resblocks.{i}.attn.{p}.{w}'
        for i in range(3)
        for p in ('q_proj', 'k_proj', 'v_proj', 'out_proj')
        for w in ('weight', 'bias')
    }
    assert tower == expected
    assert not any(n.startswith('text_encoder') for n in names)
    log, moved, before = _step(model)
    assert torch.isfinite(log['loss'])
    # the last block runs value-only (dense map): its q and k get no
    # gradient
    idle = {
        f'clip_tower.visual.transformer.resblocks.2.attn.{p}.{w}'
        for p in ('q_proj', 'k_proj')
        for w in ('weight', 'bias')
    }
    assert {k for k in moved if k.startswith('clip_tower')} == expected - idle
    # the frozen text tower is a frozen part: out of checkpoints, in eval
    assert not model.text_encoder.training
    text_keys = [k for k in before if k.startswith('text_encoder.')]
    assert text_keys == [f'text_encoder.{FROZEN_RECORD_KEY}']
    # ... and restored from the model's own weights on a strict load
    fresh = _build(_cfg(probe, version='2023'))
    fresh.load_state_dict(model.state_dict(), strict=True)
    with torch.no_grad():
        torch.testing.assert_close(
            fresh.text_embeddings('test'), model.text_embeddings('test'))


def test_2023_text_averages_synonyms_per_template(probe):
    model = _build(_cfg(probe, version='2023'))
    emb = model.text_embeddings('train')
    assert emb.shape == (3, 8, 16) and not emb.requires_grad
    assert model.text_embeddings('train') is emb  # computed once
    ref = embed_class_names(
        model.text_encoder, TRAIN, templates='imagenet_select',
        this_is=False).per_template
    torch.testing.assert_close(emb, ref)


def test_2023_guidance_input_is_renormalised_to_imagenet(probe):
    model = _build(_cfg(probe, version='2023'))
    raw = torch.rand(1, 3, 64, 64) * 255
    clip = (raw - torch.tensor(CLIP_MEAN).view(
        1, 3, 1, 1)) / torch.tensor(CLIP_STD).view(1, 3, 1, 1)
    imagenet = (raw - torch.tensor([123.675, 116.28, 103.53]).view(
        1, 3, 1, 1)) / torch.tensor([58.395, 57.12, 57.375]).view(1, 3, 1, 1)
    torch.testing.assert_close(
        model.guidance_input(clip), imagenet, atol=1e-4, rtol=1e-5)
    feats = model.extract_feat(model._resize(clip, (48, 48)))
    assert feats['appearance'].shape == (1, 32, 4, 4)
    assert [tuple(g.shape)
            for g in feats['decoder_guidance']] == [(1, 16, 8, 8),
                                                    (1, 8, 16, 16)]


def test_frozen_guidance_backbone_is_a_frozen_part(probe):
    model = _build(_cfg(probe, version='2023', freeze_guidance_backbone=True))
    assert not any(p.requires_grad
                   for p in model.guidance_backbone.parameters())
    keys = [k for k in model.state_dict() if k.startswith('guidance_')]
    assert keys == [f'guidance_backbone.{FROZEN_RECORD_KEY}']
    # stored on request: another (random) initialisation loads them back
    cfg = _cfg(
        probe,
        version='2023',
        freeze_guidance_backbone=True,
        store_frozen_weights=True)
    stored = _build(cfg)
    state = stored.state_dict()
    assert 'guidance_backbone.conv1.weight' in state
    assert 'text_encoder.text.text_projection' in state
    other = _build(cfg, seed=3)
    other.load_state_dict(state, strict=True)
    torch.testing.assert_close(other.guidance_backbone.conv1.weight,
                               stored.guidance_backbone.conv1.weight)
    with torch.no_grad():
        torch.testing.assert_close(
            other.text_embeddings('test'), stored.text_embeddings('test'))


def test_vocabulary_switch_needs_no_checkpoint_surgery(probe, tmp_path):
    trained = _build(_cfg(probe))
    _step(trained)
    ckpt = tmp_path / 'catseg.pth'
    torch.save(trained.state_dict(), ckpt)
    test_names = ['grass', 'cat', 'tree', 'road', 'sky']
    model = _build(_cfg(probe, test_vocabulary=test_names), seed=1)
    model.load_state_dict(torch.load(ckpt), strict=True)
    model.eval()
    assert model.train_class_names == tuple(TRAIN)
    assert model.class_names == tuple(test_names)
    # the VocabularyCheckHook reads the training vocabulary before
    # training and the test vocabulary before testing
    assert find_vocabulary(model) == ('', model)
    hook, runner = VocabularyCheckHook(), SimpleNamespace(model=model)

    def loader(classes):
        return SimpleNamespace(
            dataset=SimpleNamespace(metainfo=dict(classes=classes)))

    hook._check(runner, 'train_dataloader', loader(TRAIN))
    hook._check(runner, 'test_dataloader', loader(test_names))
    with pytest.raises(ValueError, match='train_class_names'):
        hook._check(runner, 'train_dataloader', loader(test_names))
    with pytest.raises(ValueError, match='model.class_names'):
        hook._check(runner, 'test_dataloader', loader(TRAIN))
    data = model.data_preprocessor(_test_batch(), False)
    with torch.no_grad():
        five = model(**data, mode='predict')[0].seg_logits.data.clone()
        assert five.shape[0] == 5
        # the probe scores each class alone: the same class scores the same
        # in any vocabulary, on the trained weights
        trained.eval()
        trained.set_vocabulary(['sky', 'cat'])
        two = trained(**data, mode='predict')[0].seg_logits.data
    assert two.shape[0] == 2
    torch.testing.assert_close(two[0], five[4])
    torch.testing.assert_close(two[1], five[1])
    model.set_vocabulary('ade20k')
    assert len(model.class_names) == 150 and model.out_channels == 150
    class_file = tmp_path / 'classes.txt'
    class_file.write_text('cat\nbuilding, edifice\n')
    model.set_vocabulary(str(class_file))
    assert model.class_names == ('cat', 'building, edifice')


def test_real_head_trains_and_predicts_through_mmseg_structures():
    model = _build(_cfg('real'))
    log, moved, _ = _step(model)
    assert torch.isfinite(log['loss'])
    assert any(k.startswith('decode_head.') for k in moved)
    model.eval()
    model.set_vocabulary(['sky', 'person', 'cup', 'grass', 'table'])
    data = model.data_preprocessor(_test_batch(ori_shape=(60, 70)), False)
    with torch.no_grad():
        res = model(**data, mode='predict')
    assert res[0].seg_logits.data.shape == (5, 60, 70)
    assert res[0].pred_sem_seg.data.shape == (1, 60, 70)
    probs = res[0].seg_logits.data
    assert bool(((probs >= 0) & (probs <= 1)).all())


def test_bad_configs_fail_clearly(probe):
    with pytest.raises(ValueError, match='exactly one of tap_guidance'):
        _build(_cfg(probe, tap_guidance=None))
    with pytest.raises(ValueError, match="test_vocabulary='no_such'"):
        _build(_cfg(probe, test_vocabulary='no_such'))
    with pytest.raises(ValueError, match='at least 2'):
        _build(_cfg(probe, train_vocabulary=['cat']))
    with pytest.raises(ValueError, match='duplicate'):
        _build(_cfg(probe, train_vocabulary=['cat', 'cat']))
    with pytest.raises(ValueError, match="mode must be 'catseg'"):
        _build(_cfg(probe, test_cfg=dict(mode='tta')))


def test_release_templates():
    from open_clip.zero_shot_metadata import OPENAI_IMAGENET_TEMPLATES

    from mmclipself.vocab import build_prompts
    imagenet = get_templates('imagenet')[1]
    assert imagenet == tuple(t('{}') for t in OPENAI_IMAGENET_TEMPLATES)
    select = get_templates('imagenet_select')[1]
    assert len(select) == 8 and set(select[:-1]) <= set(imagenet)
    assert select[-1] == get_templates('catseg_cvpr')[1][0]
    # templates without {article}, no "This is" prefix (Cat-Seg)
    assert build_prompts(
        'Dog', 'imagenet', this_is=False)[:2] == [
            'a bad photo of a dog.', 'a photo of many dog.'
        ]
    assert build_prompts(
        'dog', 'catseg_cvpr',
        this_is=False) == ['A photo of a dog in the scene']
