# Copyright (c) mmclipself contributors. All rights reserved.
import open_clip
import pytest
import torch
import torch.nn.functional as F

from mmclipself.testing.text import tiny_clip_cfg, tiny_open_clip
from mmclipself.vocab import (BACKGROUND, VILD_TEMPLATES, build_prompts,
                              embed_class_names, encode_class_names)


@pytest.fixture(scope='module')
def clip():
    return tiny_open_clip(tiny_clip_cfg(), seed=0)


@pytest.fixture(scope='module')
def tok():
    return open_clip.get_tokenizer('')  # open_clip's default BPE, 77 tokens


def _unit(model, tok, prompts):
    with torch.no_grad():
        return F.normalize(model.encode_text(tok(prompts)), dim=-1)


def test_ensemble_is_the_normalised_mean_of_normalised_templates(clip, tok):
    names = ['cat', 'traffic light', 'ping-pong_ball', BACKGROUND]
    vocab = embed_class_names(
        clip,
        names,
        tokenizer=tok,
        templates='vild',
        batch_size=3,
        provenance=dict(model='TinyCLIP'))
    assert vocab.class_names == names
    assert vocab.embeddings.shape == (4, 16)
    assert vocab.per_template.shape == (4, 63, 16)
    for i, name in enumerate(names):
        # by hand, one class at a time, straight from open_clip
        per = _unit(clip, tok, build_prompts(name))
        torch.testing.assert_close(vocab.per_template[i], per)
        torch.testing.assert_close(vocab.embeddings[i],
                                   F.normalize(per.mean(0), dim=0))
    torch.testing.assert_close(vocab.embeddings,
                               F.normalize(vocab.per_template.mean(1), dim=-1))
    # the release rule keeps the hyphen in the prompt
    assert build_prompts('ping-pong_ball')[8] == \
        'This is a photo of a ping-pong ball.'
    assert vocab.provenance == dict(
        model='TinyCLIP',
        pretrained=None,
        weights=None,
        templates='vild',
        prompt_templates=list(VILD_TEMPLATES),
        rule='release',
        this_is=True,
        background=True)


def test_synonyms_are_averaged_per_template(clip, tok):
    vocab = embed_class_names(
        clip, ['building, edifice', 'cat'], tokenizer=tok, templates='single')
    a = _unit(clip, tok, build_prompts('building', 'single'))
    b = _unit(clip, tok, build_prompts('edifice', 'single'))
    expected = F.normalize((a + b) / 2, dim=-1)
    torch.testing.assert_close(vocab.per_template[0], expected)
    torch.testing.assert_close(vocab.embeddings[0], expected[0])
    assert vocab.provenance['templates'] == 'single'


def test_rule_and_prefix_change_the_prompts(clip, tok):
    release = embed_class_names(clip, ['bow-tie'], tok, 'single')
    panoptic = embed_class_names(
        clip, ['bow-tie'], tok, 'single', rule='panoptic')
    assert panoptic.provenance['rule'] == 'panoptic'
    torch.testing.assert_close(
        panoptic.embeddings, _unit(clip, tok,
                                   ['This is a photo of a bow tie.']))
    torch.testing.assert_close(
        release.embeddings, _unit(clip, tok,
                                  ['This is a photo of a bow-tie.']))
    plain = embed_class_names(clip, ['cat'], tok, 'single', this_is=False)
    torch.testing.assert_close(plain.embeddings,
                               _unit(clip, tok, ['a photo of a cat.']))


def test_former_api_returns_the_ensembled_rows(clip, tok):
    emb = encode_class_names(clip, tok, ['cat', 'dog'], batch_size=1)
    vocab = embed_class_names(clip, ['cat', 'dog'], tok)
    torch.testing.assert_close(emb, vocab.embeddings)


def test_bad_input(clip, tok):
    with pytest.raises(ValueError, match='empty'):
        embed_class_names(clip, [], tok)
    with pytest.raises(ValueError, match='duplicate'):
        embed_class_names(clip, ['cat', 'cat'], tok)
    with pytest.raises(ValueError, match='empty class name'):
        embed_class_names(clip, ['__'], tok)
    with pytest.raises(ValueError, match='no tokenizer'):
        embed_class_names(clip, ['cat'])
    with pytest.raises(ValueError, match='rule'):
        embed_class_names(clip, ['cat'], tok, rule='lvis')
