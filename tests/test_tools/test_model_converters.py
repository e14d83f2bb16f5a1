# Copyright (c) mmclipself contributors. All rights reserved.
"""Converters round-trip: any accepted layout -> open_clip -> same tower."""
import os.path as osp
import runpy
import subprocess
import sys

import pytest
import torch

from mmclipself.models import CLIPSelfDistiller
from mmclipself.models.utils import blend_state_dicts
from mmclipself.testing.towers import TINY_EVA, tiny_eva, tiny_openai
from ..test_models.test_backbones.test_clip_checkpoints import _eva_clip_state

REPO = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))
TOOLS = osp.join(REPO, 'tools', 'model_converters')


def _same(a, b):
    x = torch.randn(1, 3, 32, 48)
    a.eval(), b.eval()
    return torch.allclose(a.forward_dense(x), b.forward_dense(x), atol=1e-6)


def test_eva_clip_release_layout_round_trips_through_open_clip(tmp_path):
    convert = runpy.run_path(osp.join(TOOLS,
                                      'clip_to_open_clip.py'))['convert']
    src = tiny_eva()
    release = tmp_path / 'release.pt'
    torch.save(dict(state_dict=_eva_clip_state(src), epoch=6), release)
    out = str(tmp_path / 'open_clip.pth')
    assert convert(str(release), tiny_eva(),
                   out) == len(src.trunk.state_dict())
    saved = torch.load(out, weights_only=True)['state_dict']
    assert all(k.startswith('visual.trunk.') for k in saved)
    back = tiny_eva(pretrained=out)
    back.init_weights()
    assert _same(src, back)

    src = tiny_openai()
    torch.save({
        'visual.' + k: v
        for k, v in src.visual.state_dict().items()
    }, tmp_path / 'openai.pt')
    convert(
        str(tmp_path / 'openai.pt'), tiny_openai(), str(tmp_path / 'o.pth'))
    back = tiny_openai(pretrained=str(tmp_path / 'o.pth'))
    back.init_weights()
    assert _same(src, back)


@pytest.mark.slow  # the tool in a subprocess
def test_export_student_tool_with_blend(tmp_path):
    torch.manual_seed(0)
    # a checkpoint that stores its teacher (random towers cannot be re-made)
    model = CLIPSelfDistiller(
        student=dict(type='EVA02CLIPViT', arch=TINY_EVA), save_teacher=True)
    model.init_weights()
    with torch.no_grad():  # make student and teacher differ
        for p in model.student.blocks().parameters():
            p.add_(1.)
    ckpt = tmp_path / 'epoch_6.pth'
    torch.save(dict(state_dict=model.state_dict(), meta=dict(epoch=6)), ckpt)
    out = tmp_path / 'blend.pth'
    res = subprocess.run([
        sys.executable,
        osp.join(TOOLS, 'export_student.py'),
        str(ckpt),
        str(out), '--alpha', '0.7'
    ],
                         capture_output=True,
                         text=True)
    assert res.returncode == 0, res.stderr
    saved = torch.load(out, weights_only=True)
    assert saved['meta']['alpha'] == 0.7
    expected = blend_state_dicts(model.student.state_dict(),
                                 model.teacher.state_dict(), 0.7)
    for k, v in expected.items():
        assert torch.allclose(saved['state_dict']['visual.' + k], v), k
    tower = tiny_eva(pretrained=str(out))
    tower.init_weights()  # loads strictly into a fresh tower
