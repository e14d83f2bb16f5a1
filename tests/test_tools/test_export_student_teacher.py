# Copyright (c) mmclipself contributors. All rights reserved.
"""export_student.py --alpha on checkpoints without the teacher."""
import os
import os.path as osp
import runpy
import shutil
import sys

import pytest
import torch

from mmclipself.models import CLIPSelfDistiller
from mmclipself.models.utils import blend_state_dicts
from mmclipself.testing.towers import TINY_EVA, write_eva_open_clip

REPO = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))
TOOL = osp.join(REPO, 'tools', 'model_converters', 'export_student.py')


def _export(monkeypatch, *args):
    monkeypatch.setattr(sys, 'argv', [TOOL, *map(str, args)])
    runpy.run_path(TOOL, run_name='__main__')


def _trained(tmp_path, pretrained):
    student = dict(type='EVA02CLIPViT', arch=TINY_EVA, pretrained=pretrained)
    model = CLIPSelfDistiller(student=student)
    model.init_weights()
    with torch.no_grad():  # training moved the student
        for p in model.student.blocks().parameters():
            p.add_(1.)
    ckpt = tmp_path / 'epoch_6.pth'
    torch.save(dict(state_dict=model.state_dict(), meta=dict()), ckpt)
    config = tmp_path / 'cfg.py'
    config.write_text(f"default_scope = 'mmclipself'\n"
                      f"model = dict(type='CLIPSelfDistiller', "
                      f"student=dict(type='EVA02CLIPViT', arch={TINY_EVA!r},"
                      f" pretrained={pretrained!r}))\n")
    return model, ckpt, config


def test_blend_remakes_the_recorded_teacher_and_checks_it(
        tmp_path, monkeypatch):
    weights = write_eva_open_clip(tmp_path / 'clip.pt', seed=0)
    model, ckpt, config = _trained(tmp_path, weights)
    assert not any(
        k.startswith('teacher.trunk') for k in torch.load(ckpt)['state_dict'])
    expected = blend_state_dicts(model.student.state_dict(),
                                 model.teacher.state_dict(), 0.7)
    out = tmp_path / 'blend.pth'
    # the recorded source, with the config stored beside the checkpoint
    _export(monkeypatch, ckpt, out, '--alpha', 0.7, '--config', config)
    saved = torch.load(out, weights_only=True)['state_dict']
    for k, v in expected.items():
        assert torch.allclose(saved['visual.' + k], v), k

    # the same weights elsewhere: accepted
    moved = shutil.copy(weights, tmp_path / 'moved.pt')
    os.remove(weights)
    with pytest.raises(ValueError, match='no longer exists'):
        _export(monkeypatch, ckpt, out, '--alpha', 0.7, '--config', config)
    os.remove(out)
    _export(monkeypatch, ckpt, out, '--alpha', 0.7, '--config', config,
            '--teacher', moved)
    saved = torch.load(out, weights_only=True)['state_dict']
    for k, v in expected.items():
        assert torch.allclose(saved['visual.' + k], v), k

    # other weights: refused, naming the expected teacher
    other = write_eva_open_clip(tmp_path / 'other.pt', seed=1)
    with pytest.raises(ValueError, match=f'expected {weights}'):
        _export(monkeypatch, ckpt, out, '--alpha', 0.7, '--config', config,
                '--teacher', other)
    # the plain student needs no teacher
    _export(monkeypatch, ckpt, tmp_path / 'plain.pth')


def test_a_random_teacher_cannot_be_remade(tmp_path, monkeypatch):
    _, ckpt, config = _trained(tmp_path, None)
    with pytest.raises(ValueError, match='randomly initialised teacher'):
        _export(monkeypatch, ckpt, tmp_path / 'b.pth', '--alpha', 0.7,
                '--config', config)
    with pytest.raises(ValueError, match='stores no training config'):
        _export(monkeypatch, ckpt, tmp_path / 'b.pth', '--alpha', 0.7,
                '--teacher', tmp_path / 'clip.pt')
