# Copyright (c) mmclipself contributors. All rights reserved.
import numpy as np
import pytest
import torch
from mmengine.optim import build_optim_wrapper

from mmclipself.datasets.transforms import PackRegionInputs, RandomGridRegions
from mmclipself.models import CLIPSelfDistiller
from mmclipself.testing.towers import TINY_EVA, TINY_OPENAI


def _distiller(tower='eva'):
    student = dict(type='EVA02CLIPViT', arch=TINY_EVA) if tower == 'eva' \
        else dict(type='OpenAICLIPViT', arch=TINY_OPENAI)
    model = CLIPSelfDistiller(
        student=student,
        data_preprocessor=dict(
            type='CLIPSelfDataPreprocessor', student_size=64, crop_size=32))
    model.init_weights()
    return model


def _batch(seed=0, n=2):
    rng = np.random.RandomState(seed)
    out = []
    for i in range(n):
        img = rng.randint(0, 256, (40 + 8 * i, 56, 3)).astype(np.uint8)
        img[:20, :28] = (255, 0, 0)  # some structure: a red block
        res = RandomGridRegions(split=(2, 3), shuffle=False)(dict(img=img))
        out.append(PackRegionInputs()(res))
    return dict(
        inputs=[o['inputs'] for o in out],
        data_samples=[o['data_samples'] for o in out])


@pytest.mark.parametrize('tower', ['eva', 'openai'])
def test_teacher_starts_equal_frozen_and_in_eval(tower):
    model = _distiller(tower)
    for (k, a), b in zip(model.student.state_dict().items(),
                         model.teacher.state_dict().values()):
        assert torch.equal(a, b), k
    assert not any(p.requires_grad for p in model.teacher.parameters())
    model.train()
    assert model.student.training and not model.teacher.training


def test_loss_is_one_minus_cosine_of_region_and_crop_embeddings():
    torch.manual_seed(0)
    model = _distiller()
    data = model.data_preprocessor(_batch(), training=True)
    losses = model(**data, mode='loss')
    assert set(losses) == {'loss_cosine'}
    samples = model(**data, mode='predict')
    cos = torch.cat([s.region_crop_cos for s in samples])
    assert cos.shape == (12, )
    assert losses['loss_cosine'].item() == pytest.approx(
        1 - cos.mean().item(), abs=1e-5)
    assert samples[0].region_feats.shape == (6, 16)


def test_training_raises_alignment_and_leaves_teacher_untouched():
    torch.manual_seed(0)
    model = _distiller()
    teacher_before = {
        k: v.clone()
        for k, v in model.teacher.state_dict().items()
    }
    optim = build_optim_wrapper(model,
                                dict(optimizer=dict(type='AdamW', lr=3e-3)))
    val = _batch(seed=1)

    def alignment():
        model.eval()
        with torch.no_grad():
            samples = model.val_step(val)
        return torch.cat([s.region_crop_cos for s in samples]).mean().item()

    before = alignment()
    model.train()
    for step in range(15):
        model.train_step(_batch(seed=2 + step % 3), optim)
    after = alignment()
    assert after > before + 0.1, (before, after)
    for k, v in model.teacher.state_dict().items():
        assert torch.equal(v, teacher_before[k]), k
    # the last block's query/key are unused by the dense path and frozen
    last = model.student.blocks()[-1].attn
    assert not last.q_proj.weight.requires_grad
    assert not last.k_proj.weight.requires_grad


def test_teacher_runs_under_inference_mode(monkeypatch):
    model = _distiller()
    crops = torch.randn(3, 3, 32, 32)
    seen = []
    original = model.teacher.forward_image

    def recording(x):
        seen.append(torch.is_inference_mode_enabled())
        return original(x)

    monkeypatch.setattr(model.teacher, 'forward_image', recording)
    feats = model.teacher_features(crops)
    assert seen == [True]
    assert not feats.is_inference()  # usable as a loss target
    assert torch.allclose(feats, original(crops))


def test_window_attention_student_keeps_a_global_teacher():
    model = CLIPSelfDistiller(
        student=dict(type='EVA02CLIPViT', arch=TINY_EVA, window_attn=(2, 2)),
        data_preprocessor=dict(
            type='CLIPSelfDataPreprocessor', student_size=64, crop_size=24))
    model.init_weights()
    assert model.student.window_attn == (2, 2)
    assert model.teacher.window_attn is None
    data = model.data_preprocessor(_batch(), training=True)
    assert model(**data, mode='loss')['loss_cosine'].item() > 0
