# Copyright (c) mmclipself contributors. All rights reserved.
"""One policy for frozen parts: small checkpoints, checked on load."""
import hashlib
import logging
import os
import warnings
from collections import OrderedDict
from types import SimpleNamespace

import pytest
import torch
import torch.nn as nn
from mmengine.config import Config
from mmengine.logging import MMLogger
from mmengine.model import BaseModule
from mmengine.runner import load_checkpoint

from mmclipself.engine.hooks import InitFrozenPartsHook
from mmclipself.models import CLIPSelfDistiller
from mmclipself.models.layers.split_qkv_attention import pack_qkv_keys
from mmclipself.models.utils.frozen import (
    FrozenPartMismatchError, FrozenPartsMixin, decode_record, encode_record,
    init_frozen_parts, set_store_weights, weights_fingerprint, weights_record)
from mmclipself.registry import MODELS
from mmclipself.testing.fvit import (REPO, tiny_fvit_config, write_tower,
                                     write_vocabulary)
from mmclipself.testing.towers import (TINY_EVA, tiny_eva, tiny_openai,
                                       write_eva_open_clip)


class Owner(FrozenPartsMixin, BaseModule):
    """A head on a frozen tiny EVA02 tower."""

    def __init__(self, pretrained=None, store=False):
        super().__init__()
        self.tower = tiny_eva(pretrained=pretrained, train_blocks='all')
        self.head = nn.Linear(16, 2)
        self.register_frozen_part('tower', store_weights=store)


def test_fingerprint_equals_a_hand_computation():
    a = torch.arange(6, dtype=torch.float32).reshape(2, 3)
    b = torch.tensor([1, 2], dtype=torch.int64)
    h = hashlib.sha256()
    for key, t in (('a', a), ('b', b)):  # sorted keys
        h.update(key.encode())
        h.update(f'|{t.dtype}|{tuple(t.shape)}|'.encode())
        h.update(t.numpy().tobytes())
    assert weights_fingerprint(OrderedDict(b=b, a=a)) == h.hexdigest()[:16]
    # any change of value, dtype, shape or name changes it
    base = weights_fingerprint(dict(a=a, b=b))
    a2 = a.clone()
    a2[1, 2] += 1e-3
    assert weights_fingerprint(dict(a=a2, b=b)) != base
    assert weights_fingerprint(dict(a=a.double(), b=b)) != base
    assert weights_fingerprint(dict(a=a.reshape(3, 2), b=b)) != base
    assert weights_fingerprint(dict(c=a, b=b)) != base
    # bfloat16 hashes too; meta tensors have nothing to hash
    assert weights_fingerprint(dict(a=a.bfloat16())) is not None
    assert weights_fingerprint(dict(a=torch.empty(2, device='meta'))) is None


def test_record_round_trips_through_a_weights_only_checkpoint(tmp_path):
    record = dict(source='open_clip://EVA02-B-16/x', fingerprint='ab' * 8)
    torch.save(dict(k=encode_record(record)), tmp_path / 'r.pth')
    loaded = torch.load(tmp_path / 'r.pth', weights_only=True)['k']
    assert decode_record(loaded) == record
    with pytest.raises(ValueError, match='bad.key'):
        decode_record(torch.zeros(3, dtype=torch.uint8), 'bad.key')


def test_part_is_frozen_in_eval_and_recorded_on_init(tmp_path):
    weights = write_eva_open_clip(tmp_path / 'w.pt', seed=0)
    model = Owner(weights)
    assert weights_record(model.tower) is None
    model.init_weights()
    model.train()
    assert model.head.training and not model.tower.training
    assert not any(p.requires_grad for p in model.tower.parameters())
    record = weights_record(model.tower)
    assert record == dict(
        source=weights,
        fingerprint=weights_fingerprint(model.tower),
        type='EVA02CLIPViT')
    # a random tower records no source and the fingerprint of its init
    random = tiny_eva()
    random.init_weights()
    assert weights_record(random)['source'] is None
    assert weights_record(random)['fingerprint'] == weights_fingerprint(random)


def test_checkpoint_keeps_a_record_and_loads_strictly_without_files(tmp_path):
    weights = write_eva_open_clip(tmp_path / 'w.pt', seed=0)
    model = Owner(weights)
    model.init_weights()
    state = model.state_dict()
    assert sorted(state) == ['head.bias', 'head.weight', 'tower.__frozen__']
    assert decode_record(state['tower.__frozen__']) == weights_record(
        model.tower)

    fresh = Owner(weights)
    with pytest.raises(
            FrozenPartMismatchError,
            match='never initialised.*InitFrozenPartsHook'):
        fresh.load_state_dict(state, strict=True)
    assert init_frozen_parts(fresh) == ['tower']
    assert init_frozen_parts(fresh) == []
    os.remove(weights)  # load_state_dict never reads files
    fresh.load_state_dict(state, strict=True)
    assert torch.equal(fresh.head.weight, model.head.weight)
    for k, v in model.tower.state_dict().items():
        assert torch.equal(fresh.tower.state_dict()[k], v), k
    # MMEngine's strict loader from a file
    torch.save(dict(state_dict=state), tmp_path / 'ckpt.pth')
    load_checkpoint(fresh, str(tmp_path / 'ckpt.pth'), strict=True)


def test_fingerprint_mismatch_names_the_expected_tower(tmp_path):
    trained_on = write_eva_open_clip(tmp_path / 'a.pt', seed=0)
    model = Owner(trained_on)
    model.init_weights()
    state = model.state_dict()
    other = write_eva_open_clip(tmp_path / 'b.pt', seed=1)
    wrong = Owner(other)
    wrong.init_weights()
    expected = weights_record(model.tower)['fingerprint']
    found = weights_record(wrong.tower)['fingerprint']
    with pytest.raises(FrozenPartMismatchError) as e:
        wrong.load_state_dict(state)
    msg = str(e.value)
    assert f'EVA02CLIPViT from {trained_on} (fingerprint {expected})' in msg
    assert f'EVA02CLIPViT from {other} (fingerprint {found})' in msg
    assert "frozen part 'tower'" in msg


def test_old_checkpoint_without_record_loads_with_one_warning(tmp_path):
    weights = write_eva_open_clip(tmp_path / 'w.pt', seed=0)
    model = Owner(weights)
    model.init_weights()
    old = {k: v for k, v in model.state_dict().items() if 'frozen' not in k}
    fresh = Owner(weights)
    with pytest.raises(FrozenPartMismatchError, match='never initialised'):
        fresh.load_state_dict(old, strict=True)
    fresh.init_weights()
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter('always')
        fresh.load_state_dict(old, strict=True)
    messages = [str(w.message) for w in caught]
    assert len(messages) == 1 and 'before frozen parts' in messages[0]


def test_stored_weights_load_and_update_the_record(tmp_path):
    model = Owner(write_eva_open_clip(tmp_path / 'a.pt', seed=0), store=True)
    model.init_weights()
    state = model.state_dict()
    assert 'tower.trunk.patch_embed.proj.weight' in state
    assert 'tower.__frozen__' in state
    other = Owner(write_eva_open_clip(tmp_path / 'b.pt', seed=1))
    other.init_weights()
    other.load_state_dict(state, strict=True)  # stored tensors win
    assert weights_record(other.tower) == weights_record(model.tower)
    for k, v in model.tower.state_dict().items():
        assert torch.equal(other.tower.state_dict()[k], v), k


class OpenAIOwner(FrozenPartsMixin, BaseModule):
    """A head on a frozen tiny OpenAI tower, stored in checkpoints."""

    def __init__(self):
        super().__init__()
        self.tower = tiny_openai()
        self.head = nn.Linear(16, 2)
        self.register_frozen_part('tower', store_weights=True)


def test_stored_packed_weights_are_fingerprinted_as_loaded():
    # a tower stored in open_clip's packed q/k/v layout (checkpoints written
    # before the split) is converted by the tower's own load hook, which
    # runs after the owner's: the record must describe the loaded weights
    torch.manual_seed(0)
    src = OpenAIOwner()
    src.init_weights()
    state = pack_qkv_keys(src.state_dict())
    assert any(k.endswith('attn.in_proj_weight') for k in state)
    dst = OpenAIOwner()
    dst.load_state_dict(state, strict=True)
    assert weights_record(dst.tower)['fingerprint'] == weights_fingerprint(
        dst.tower) == weights_fingerprint(src.tower)
    # saved again and loaded into a model holding the same weights: checks
    third = OpenAIOwner()
    third.tower.load_state_dict(src.tower.state_dict())
    third.tower._is_init = True
    set_store_weights(third, 'tower', False)
    resaved = {
        k: v
        for k, v in dst.state_dict().items()
        if not k.startswith('tower.') or k.endswith('__frozen__')
    }
    third.load_state_dict(resaved, strict=True)


def test_init_frozen_parts_hook_initialises_before_loading(tmp_path):
    model = Owner(write_eva_open_clip(tmp_path / 'w.pt', seed=0))
    runner = SimpleNamespace(
        model=model, logger=MMLogger.get_instance('frozen_test'))
    InitFrozenPartsHook().before_run(runner)
    assert weights_record(model.tower) is not None
    # it is a default hook of every config (merged by key)
    cfg = Config.fromfile(f'{REPO}/configs/_base_/det_runtime.py')
    assert cfg.default_hooks.init_frozen_parts == dict(
        type='mmclipself.InitFrozenPartsHook')


def test_fvit_checkpoint_is_smaller_and_loads_strictly(tmp_path):
    MMLogger.get_current_instance().setLevel(logging.WARNING)
    tower = write_tower(tmp_path / 'tower.pth')
    vocab = write_vocabulary(tmp_path / 'v.pt', ['cat', 'cup'])
    cfg = tiny_fvit_config(
        'configs/fvit/fvit_eva-vitb16_ov-coco.py',
        tower,
        vocab,
        base_classes=None)
    model = MODELS.build(cfg.model)
    model.init_weights()
    small = tmp_path / 'small.pth'
    torch.save(dict(state_dict=model.state_dict()), small)
    model.backbone.save_clip_weights = True  # the tower stored, as before
    full = tmp_path / 'full.pth'
    torch.save(dict(state_dict=model.state_dict()), full)
    model.backbone.save_clip_weights = False
    tower_bytes = sum(v.numel() * v.element_size()
                      for v in model.backbone.clip.state_dict().values())
    assert os.path.getsize(small) <= os.path.getsize(full) - tower_bytes

    fresh = MODELS.build(cfg.model)
    init_frozen_parts(fresh)
    load_checkpoint(fresh, str(small), strict=True)
    for k, v in model.state_dict().items():
        assert torch.equal(fresh.state_dict()[k], v), k


def test_distiller_teacher_is_frozen_and_not_stored(tmp_path):
    weights = write_eva_open_clip(tmp_path / 'w.pt', seed=0)
    student = dict(type='EVA02CLIPViT', arch=TINY_EVA, pretrained=weights)
    model = CLIPSelfDistiller(student=student)
    model.init_weights()
    model.train()
    assert not model.teacher.training
    assert not any(p.requires_grad for p in model.teacher.parameters())
    state = model.state_dict()
    assert [k for k in state
            if k.startswith('teacher.')] == ['teacher.__frozen__']
    assert decode_record(state['teacher.__frozen__'])['source'] == weights
    with torch.no_grad():  # training moves the student only
        for p in model.student.blocks().parameters():
            p.add_(1.)
    state = model.state_dict()
    # a test run re-makes the teacher from the file, then loads
    fresh = CLIPSelfDistiller(student=student)
    init_frozen_parts(fresh)
    os.remove(weights)
    fresh.load_state_dict(state, strict=True)
    for k, v in model.state_dict().items():
        assert torch.equal(fresh.state_dict()[k], v), k
    stored = CLIPSelfDistiller(student=student, save_teacher=True)
    assert any(k.startswith('teacher.trunk.') for k in stored.state_dict())
