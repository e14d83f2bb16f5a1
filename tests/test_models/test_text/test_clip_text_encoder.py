# Copyright (c) mmclipself contributors. All rights reserved.
import open_clip
import pytest
import torch
import torch.nn.functional as F

from mmclipself.models import CLIPTextEncoder
from mmclipself.models.utils import weights_fingerprint, weights_record
from mmclipself.models.utils.clip_checkpoint import CheckpointMismatchError
from mmclipself.registry import MODELS
from mmclipself.testing.text import tiny_clip_cfg, tiny_open_clip

PROMPTS = ['a photo of a cat.', 'a bow-tie']


def _encoder(cfg, path=None, **kwargs):
    enc = MODELS.build(
        dict(
            type='CLIPTextEncoder',
            model_name='TinyCLIP-text-test',
            model_cfg=cfg,
            pretrained=None if path is None else str(path),
            **kwargs))
    enc.init_weights()
    return enc


def _reference(src, texts):
    with torch.no_grad():
        return F.normalize(
            src.encode_text(open_clip.get_tokenizer('')(texts)), dim=-1)


@pytest.mark.parametrize('custom_text', [False, True])
def test_loads_only_the_text_tower_strictly(custom_text, tmp_path):
    cfg = tiny_clip_cfg(custom_text=custom_text)
    src = tiny_open_clip(cfg, seed=1)
    path = tmp_path / 'clip.pt'
    # a whole CLIP file: OpenAI/open_clip layout or EVA-style `text.*`
    torch.save(dict(state_dict=src.state_dict()), path)
    enc = _encoder(cfg, path)
    assert all(k.startswith('text.') for k in enc.state_dict())
    n_text = sum(p.numel() for n, p in src.named_parameters()
                 if not n.startswith(('visual.', 'logit_')))
    assert sum(p.numel() for p in enc.parameters()) == n_text
    out = enc(PROMPTS)
    assert out.shape == (2, 16) and enc.embed_dim == 16
    torch.testing.assert_close(out, _reference(src, PROMPTS))
    torch.testing.assert_close(enc(enc.tokenize(PROMPTS)), out)
    # frozen, in eval, no graph
    assert not enc.trainable and not out.requires_grad
    assert not enc.train().training
    record = weights_record(enc)
    assert record['source'] == str(path)
    assert record['fingerprint'] == weights_fingerprint(enc)


def test_rejects_other_files_naming_them(tmp_path):
    cfg = tiny_clip_cfg()
    state = tiny_open_clip(cfg).state_dict()
    renamed = dict(state)
    renamed['ln_final.gamma'] = renamed.pop('ln_final.weight')
    torch.save(renamed, tmp_path / 'renamed.pt')
    with pytest.raises(CheckpointMismatchError) as e:
        _encoder(cfg, tmp_path / 'renamed.pt')
    assert 'renamed.pt' in str(e.value)
    assert '1 missing keys [ln_final.weight]' in str(e.value)
    assert '1 unexpected keys [ln_final.gamma]' in str(e.value)
    wide = tiny_open_clip(tiny_clip_cfg(width=64)).state_dict()
    torch.save(wide, tmp_path / 'wide.pt')
    with pytest.raises(
            CheckpointMismatchError,
            match=r'wide.pt does not match .* tensors of the '
            r'wrong shape \[\S+ \(checkpoint \[64'):
        _encoder(cfg, tmp_path / 'wide.pt')
    image_only = {k: v for k, v in state.items() if k.startswith('visual.')}
    torch.save(image_only, tmp_path / 'image.pt')
    with pytest.raises(KeyError, match='image.pt holds no CLIP text tower'):
        _encoder(cfg, tmp_path / 'image.pt')
    with pytest.raises(FileNotFoundError, match='nope.pt'):
        _encoder(cfg, tmp_path / 'nope.pt')
    with pytest.raises(ValueError, match='unknown open_clip model'):
        CLIPTextEncoder('NoSuchCLIP-mmclipself')


def test_q_and_v_only_train_by_pattern(tmp_path):
    cfg = tiny_clip_cfg()
    src = tiny_open_clip(cfg, seed=2)
    path = tmp_path / 'clip.pt'
    torch.save(src.state_dict(), path)  # packed in_proj_weight
    patterns = ('*attn.q_proj.weight', '*attn.v_proj.weight')
    enc = _encoder(cfg, path, train_patterns=patterns)
    trainable = [n for n, p in enc.named_parameters() if p.requires_grad]
    assert trainable == [
        'text.transformer.resblocks.0.attn.q_proj.weight',
        'text.transformer.resblocks.0.attn.v_proj.weight'
    ]
    assert enc.train().training
    # the split tower computes what the packed one does
    torch.testing.assert_close(enc(PROMPTS), _reference(src, PROMPTS))
    before = {k: v.clone() for k, v in enc.state_dict().items()}
    opt = torch.optim.SGD([p for p in enc.parameters() if p.requires_grad],
                          lr=0.1)
    enc(PROMPTS).sum().backward()
    opt.step()
    after = enc.state_dict()
    moved = sorted(k for k in before if not torch.equal(before[k], after[k]))
    assert moved == sorted(trainable)
    # the tuned (split) tower loads back into a frozen (packed) one
    torch.save(enc.state_dict(), tmp_path / 'tuned.pt')
    frozen = _encoder(cfg, tmp_path / 'tuned.pt')
    assert not frozen.trainable
    torch.testing.assert_close(frozen(PROMPTS), enc(PROMPTS).detach())
    with pytest.raises(ValueError, match='match no parameter'):
        _encoder(cfg, path, train_patterns=['*q_proj_weight'])


def test_encode_prompts_records_the_tower(tmp_path):
    cfg = tiny_clip_cfg()
    src = tiny_open_clip(cfg)
    path = tmp_path / 'clip.pt'
    torch.save(src.state_dict(), path)
    vocab = _encoder(cfg, path).encode_prompts(['cat', 'background'],
                                               templates='single')
    assert vocab.text_model == 'TinyCLIP-text-test'
    assert vocab.provenance['pretrained'] == str(path)
    assert vocab.provenance['weights'][0] == str(path)
    torch.testing.assert_close(
        vocab.embeddings,
        _reference(
            src,
            ['This is a photo of a cat.', 'This is a photo of a background.']))
