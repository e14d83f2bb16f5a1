# Copyright (c) mmclipself contributors. All rights reserved.
"""Loading CLIP weights in every supported layout, strictly.

The tests write small checkpoints in each format from a tiny tower with
random weights, load them into a fresh tower and compare outputs.
"""
import os
import subprocess
import sys

import pytest
import torch

from mmclipself.models import EVA02CLIPViT, OpenAICLIPViT
from mmclipself.models.utils.clip_checkpoint import CheckpointMismatchError
from mmclipself.testing.towers import (TINY_EVA, TINY_OPENAI, tiny_eva,
                                       tiny_openai)

# timm Eva name -> original EVA-CLIP name (reference facts §2)
_EVA_CLIP_NAMES = [('attn.norm.', 'attn.inner_attn_ln.'),
                   ('mlp.norm.', 'mlp.ffn_ln.'), ('mlp.fc1_g.', 'mlp.w1.'),
                   ('mlp.fc1_x.', 'mlp.w2.'), ('mlp.fc2.', 'mlp.w3.'),
                   ('attn.q_proj.bias', 'attn.q_bias'),
                   ('attn.v_proj.bias', 'attn.v_bias')]
_TEXT = {
    'text.token_embedding.weight': torch.zeros(10, 4),
    'text.ln_final.weight': torch.ones(4),
    'logit_scale': torch.tensor(4.6)
}


def _eva_clip_state(model):
    state = {}
    for k, v in model.trunk.state_dict().items():
        for a, b in _EVA_CLIP_NAMES:
            k = k.replace(a, b)
        state['visual.' + k] = v.clone()
    n = 4 * 4
    state['visual.rope.freqs_cos'] = torch.zeros(n, 64)
    state['visual.rope.freqs_sin'] = torch.zeros(n, 64)
    state.update(_TEXT)
    return state


def _assert_same(a, b, size=(32, 48)):
    x = torch.randn(1, 3, *size)
    a.eval(), b.eval()
    assert torch.allclose(a.forward_dense(x), b.forward_dense(x), atol=1e-6)
    assert torch.allclose(a.forward_image(x), b.forward_image(x), atol=1e-6)


def _save(state, path):
    torch.save(state, path)
    return str(path)


def test_eva_open_clip_format(tmp_path):
    src = tiny_eva()
    state = {'visual.trunk.' + k: v for k, v in src.trunk.state_dict().items()}
    state.update(_TEXT)
    dst = tiny_eva(pretrained=_save(state, tmp_path / 'open_clip.pt'))
    dst.init_weights()
    _assert_same(src, dst)
    assert not any(p.requires_grad for p in dst.non_block_parameters())


def test_eva_original_and_clipself_release_formats(tmp_path):
    src = tiny_eva()
    state = _eva_clip_state(src)
    original = _save(state, tmp_path / 'EVA02_CLIP_tiny.pt')
    release = _save(
        dict(epoch=6, name='clipself', state_dict=state, optimizer={}),
        tmp_path / 'eva_tiny_clipself_patches.pt')
    ddp = _save({
        'module.' + k: v
        for k, v in state.items()
    }, tmp_path / 'ddp.pth')
    for path in (original, release, ddp):
        dst = tiny_eva(pretrained=path)
        dst.init_weights()
        _assert_same(src, dst)


def test_eva_safetensors_and_bare_timm_keys(tmp_path):
    from safetensors.torch import save_file
    src = tiny_eva()
    path = tmp_path / 'trunk.safetensors'
    save_file({
        k: v.contiguous()
        for k, v in src.trunk.state_dict().items()
    }, str(path))
    dst = tiny_eva(pretrained=str(path))
    dst.init_weights()
    _assert_same(src, dst)


def test_openai_state_dict_and_torchscript(tmp_path):
    src = tiny_openai()
    state = {'visual.' + k: v for k, v in src.visual.state_dict().items()}
    state['positional_embedding'] = torch.zeros(77, 4)  # text tower
    dst = tiny_openai(pretrained=_save(state, tmp_path / 'openai.pt'))
    dst.init_weights()
    _assert_same(src, dst)

    class OpenAIJit(torch.nn.Module):  # OpenAI ships TorchScript archives

        def __init__(self, visual):
            super().__init__()
            self.visual = visual

        def forward(self, x):
            return x

    jit_path = str(tmp_path / 'ViT-tiny.pt')
    torch.jit.save(torch.jit.script(OpenAIJit(src.visual)), jit_path)
    dst = tiny_openai(pretrained=jit_path)
    dst.init_weights()
    _assert_same(src, dst)


def test_strict_loading_lists_missing_and_unexpected_keys(tmp_path):
    src = tiny_eva()
    state = {'visual.trunk.' + k: v for k, v in src.trunk.state_dict().items()}
    del state['visual.trunk.blocks.1.attn.proj.weight']
    state['visual.trunk.blocks.9.extra.weight'] = torch.zeros(1)
    dst = tiny_eva(pretrained=_save(state, tmp_path / 'bad.pt'))
    with pytest.raises(CheckpointMismatchError) as e:
        dst.init_weights()
    msg = str(e.value)
    assert 'bad.pt' in msg
    assert '1 missing keys [blocks.1.attn.proj.weight]' in msg
    assert '1 unexpected keys [blocks.9.extra.weight]' in msg


def test_wrong_width_and_wrong_family_are_reported(tmp_path):
    wide = EVA02CLIPViT(arch=dict(TINY_EVA, num_classes=32))
    state = {
        'visual.trunk.' + k: v
        for k, v in wide.trunk.state_dict().items()
    }
    path = _save(state, tmp_path / 'wide.pt')
    with pytest.raises(RuntimeError, match=r'(?s)wide\.pt.*head\.weight'):
        tiny_eva(pretrained=path).init_weights()
    openai = {
        'visual.' + k: v
        for k, v in tiny_openai().visual.state_dict().items()
    }
    with pytest.raises(KeyError, match='no EVA02 image-tower keys'):
        tiny_eva(pretrained=_save(openai, tmp_path / 'o.pt')).init_weights()
    with pytest.raises(KeyError, match='not an OpenAI CLIP ViT'):
        OpenAICLIPViT(
            arch=TINY_OPENAI,
            pretrained=_save({'blocks.0.x': torch.zeros(1)},
                             tmp_path / 'e.pt')).init_weights()


def test_missing_and_corrupt_files(tmp_path):
    with pytest.raises(FileNotFoundError, match='nope.pt'):
        tiny_eva(pretrained=str(tmp_path / 'nope.pt')).init_weights()
    corrupt = tmp_path / 'corrupt.pt'
    corrupt.write_bytes(b'not a checkpoint at all')
    with pytest.raises(RuntimeError, match='corrupt.pt'):
        tiny_eva(pretrained=str(corrupt)).init_weights()
    empty = _save({'epoch': 3}, tmp_path / 'empty.pt')
    with pytest.raises(RuntimeError, match='empty.pt holds no'):
        tiny_eva(pretrained=empty).init_weights()


def test_open_clip_tags():
    with pytest.raises(ValueError, match='no pretrained tag'):
        tiny_eva(
            pretrained='open_clip://EVA02-B-16/no_such_tag').init_weights()


@pytest.mark.slow  # a fresh Python process
def test_open_clip_tag_without_network_fails_clearly(tmp_path):
    # A real tag with no network and no cache: a clear error naming the tag.
    # HF_HUB_OFFLINE must be set before huggingface_hub is imported, hence a
    # fresh interpreter.
    code = (
        'from mmclipself.models.utils import resolve_pretrained\n'
        'try:\n'
        '    resolve_pretrained("open_clip://EVA02-B-16/merged2b_s8b_b131k",'
        f' cache_dir={str(tmp_path)!r})\n'
        'except FileNotFoundError as e:\n'
        '    print("ERROR", e)\n')
    env = dict(os.environ, HF_HUB_OFFLINE='1')
    out = subprocess.run([sys.executable, '-c', code],
                         env=env,
                         capture_output=True,
                         text=True,
                         timeout=120)
    assert out.stdout.startswith('ERROR open_clip://EVA02-B-16/'
                                 'merged2b_s8b_b131k: open_clip could not '
                                 'fetch'), out.stdout + out.stderr
