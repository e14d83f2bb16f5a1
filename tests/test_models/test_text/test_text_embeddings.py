# Copyright (c) mmclipself contributors. All rights reserved.
import json
import os.path as osp
import subprocess
import sys

import open_clip
import pytest
import torch
import torch.nn.functional as F

from mmclipself.models.text import build_text_model
from mmclipself.models.utils.clip_checkpoint import CheckpointMismatchError
from mmclipself.vocab import (build_prompts, embed_class_names,
                              encode_class_names)

REPO = osp.dirname(
    osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__)))))
TINY = dict(
    embed_dim=16,
    vision_cfg=dict(
        image_size=32, layers=1, width=32, patch_size=16, head_width=16),
    text_cfg=dict(
        context_length=77, vocab_size=49408, width=32, heads=2, layers=1))


@pytest.fixture
def tiny_cfg(tmp_path):
    path = tmp_path / 'TinyCLIP-mmclipself-test.json'
    path.write_text(json.dumps(TINY))
    open_clip.add_model_config(str(path))
    return str(path)


def test_embeddings_equal_a_manual_prompt_ensemble(tiny_cfg, tmp_path):
    torch.manual_seed(0)
    src = open_clip.create_model('TinyCLIP-mmclipself-test')
    ckpt = tmp_path / 'clip.pt'
    torch.save(dict(state_dict=src.state_dict()), ckpt)
    model = build_text_model('TinyCLIP-mmclipself-test', str(ckpt))
    tok = open_clip.get_tokenizer('TinyCLIP-mmclipself-test')
    emb = encode_class_names(
        model, tok, ['cat', 'traffic light', 'dog'], batch_size=2)
    assert emb.shape == (3, 16)
    assert torch.allclose(emb.norm(dim=1), torch.ones(3), atol=1e-5)
    with torch.no_grad():
        one = F.normalize(
            src.encode_text(tok(build_prompts('traffic light'))),
            dim=-1).mean(0)
    assert torch.allclose(emb[1], F.normalize(one, dim=0), atol=1e-5)


def test_text_weights_load_strictly(tiny_cfg, tmp_path):
    src = open_clip.create_model('TinyCLIP-mmclipself-test')
    state = src.state_dict()
    del state['ln_final.weight']
    state['text_extra.weight'] = torch.zeros(1)
    torch.save(state, tmp_path / 'bad.pt')
    with pytest.raises(CheckpointMismatchError) as e:
        build_text_model('TinyCLIP-mmclipself-test', str(tmp_path / 'bad.pt'))
    assert '1 missing keys [ln_final.weight]' in str(e.value)
    assert '1 unexpected keys [text_extra.weight]' in str(e.value)


@pytest.mark.slow  # the tool in a subprocess
def test_tool_writes_the_embeddings_file(tiny_cfg, tmp_path):
    src = open_clip.create_model('TinyCLIP-mmclipself-test')
    torch.save(src.state_dict(), tmp_path / 'clip.pt')
    (tmp_path / 'classes.txt').write_text('red apple\nbicycle\n\n')
    out = tmp_path / 'emb' / 'mine.pt'
    res = subprocess.run([
        sys.executable,
        osp.join(REPO, 'tools', 'generate_text_embeddings.py'), '--classes',
        str(tmp_path / 'classes.txt'), '--model', 'TinyCLIP-mmclipself-test',
        '--model-config', tiny_cfg, '--pretrained',
        str(tmp_path / 'clip.pt'), '--background', '--out',
        str(out), '--templates', 'vild', '--rule', 'panoptic'
    ],
                         capture_output=True,
                         text=True,
                         timeout=300)
    assert res.returncode == 0, res.stderr[-2000:]
    saved = torch.load(out, weights_only=True)
    assert saved['class_names'] == ['red apple', 'bicycle', 'background']
    assert saved['embeddings'].shape == (3, 16)
    assert saved['templates'] == 'vild' and saved['background']
    # the new format: per-template rows and how they were made
    assert saved['per_template'].shape == (3, 63, 16)
    assert saved['rule'] == 'panoptic' and saved['this_is']
    assert saved['model'] == 'TinyCLIP-mmclipself-test'
    assert saved['pretrained'] == str(tmp_path / 'clip.pt')
    expected = embed_class_names(
        build_text_model('TinyCLIP-mmclipself-test',
                         str(tmp_path / 'clip.pt')),
        ['red apple', 'bicycle', 'background'],
        rule='panoptic')
    torch.testing.assert_close(saved['embeddings'], expected.embeddings)
    torch.testing.assert_close(saved['per_template'], expected.per_template)
