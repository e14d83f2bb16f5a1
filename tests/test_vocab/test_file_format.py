# Copyright (c) mmclipself contributors. All rights reserved.
import os

import pytest
import torch
import torch.nn.functional as F

from mmclipself.vocab import (BACKGROUND, Vocabulary, load_vocabulary,
                              save_vocabulary)

NAMES = ['cat', 'traffic light', BACKGROUND]


def _vocab(names=NAMES, templates=4, dim=8, seed=0):
    g = torch.Generator().manual_seed(seed)
    per = F.normalize(
        torch.randn(len(names), templates, dim, generator=g), dim=-1)
    return Vocabulary(
        class_names=list(names),
        embeddings=F.normalize(per.mean(1), dim=-1),
        per_template=per,
        provenance=dict(
            model='EVA02-B-16',
            pretrained='open_clip://EVA02-B-16/merged2b_s8b_b131k',
            templates='custom',
            prompt_templates=['a {}.'] * templates,
            rule='release',
            this_is=True))


def test_round_trip_keeps_embeddings_and_provenance(tmp_path):
    vocab = _vocab()
    path = save_vocabulary(vocab, str(tmp_path / 'sub' / 'v.pt'))
    assert sorted(os.listdir(tmp_path / 'sub')) == ['v.pt']  # no temp file
    back = load_vocabulary(path)
    assert back.class_names == NAMES
    torch.testing.assert_close(back.embeddings, vocab.embeddings)
    torch.testing.assert_close(back.per_template, vocab.per_template)
    assert back.embeddings.dtype == torch.float32
    assert back.source.endswith('v.pt')
    for key in ('model', 'pretrained', 'templates', 'rule', 'this_is'):
        assert back.provenance[key] == vocab.provenance[key]
    assert back.provenance['background'] is True
    assert back.provenance['format'] == 'mmclipself-vocabulary-v2'
    assert back.text_model == 'EVA02-B-16'
    # the flat layout keeps the keys older readers used
    raw = torch.load(path, weights_only=True)
    assert raw['class_names'] == NAMES and raw['templates'] == 'custom'
    assert raw['embeddings'].shape == (3, 8)
    assert raw['per_template'].shape == (3, 4, 8)
    # ensembled only
    small = save_vocabulary(vocab, str(tmp_path / 's.pt'), per_template=False)
    assert load_vocabulary(small).per_template is None


def test_split_background_and_select():
    vocab = _vocab()
    classes, bg = vocab.split_background()
    assert classes.class_names == ['cat', 'traffic light']
    torch.testing.assert_close(bg, vocab.embeddings[2])
    torch.testing.assert_close(classes.per_template, vocab.per_template[:2])
    assert not classes.has_background and vocab.has_background
    assert classes.split_background() == (classes, None)
    with pytest.raises(ValueError, match='no class besides "background"'):
        vocab.select([2]).split_background()


def test_rows_are_unit_float32():
    emb = torch.tensor([[3., 4.], [0., 2.]], dtype=torch.float64)
    vocab = Vocabulary(['a', 'b'], emb)
    torch.testing.assert_close(vocab.embeddings,
                               torch.tensor([[.6, .8], [0., 1.]]))
    assert vocab.per_template is None and vocab.dim == 2


def test_former_files_still_load(tmp_path):
    emb = F.normalize(torch.randn(3, 8), dim=-1)
    # the former generate_text_embeddings.py layout
    v1 = tmp_path / 'v1.pt'
    torch.save(
        dict(
            class_names=NAMES,
            embeddings=emb,
            model='ViT-B-16-quickgelu',
            pretrained='openai.pt',
            templates='vild',
            this_is=True,
            background=True), v1)
    vocab = load_vocabulary(str(v1))
    assert vocab.class_names == NAMES and vocab.per_template is None
    torch.testing.assert_close(vocab.embeddings, emb)
    assert vocab.text_model == 'ViT-B-16-quickgelu'
    assert vocab.provenance['templates'] == 'vild'
    # the former tool cleaned names like today's panoptic rule
    assert vocab.provenance['rule'] == 'panoptic'
    # names and embeddings only: provenance unknown
    bare = tmp_path / 'bare.pt'
    torch.save(dict(class_names=NAMES, embeddings=emb), bare)
    vocab = load_vocabulary(str(bare))
    assert vocab.text_model is None and vocab.provenance['rule'] is None
    # the CLIPSelf release's {name: tensor} dumps
    release = tmp_path / 'release.pt'
    torch.save({n: e for n, e in zip(NAMES, emb * 2)}, release)
    vocab = load_vocabulary(str(release))
    assert vocab.class_names == NAMES
    torch.testing.assert_close(vocab.embeddings, emb)
    assert vocab.text_model is None
    assert vocab.provenance['format'] == 'name-to-tensor'
    assert vocab.provenance['background'] is True


def test_errors_name_the_file(tmp_path):
    with pytest.raises(FileNotFoundError, match='missing.pt'):
        load_vocabulary(str(tmp_path / 'missing.pt'))
    (tmp_path / 'corrupt.pt').write_bytes(b'not a torch file')
    with pytest.raises(ValueError, match='corrupt.pt'):
        load_vocabulary(str(tmp_path / 'corrupt.pt'))
    cases = {
        'rows.pt': (dict(class_names=['a', 'b'], embeddings=torch.ones(3, 4)),
                    '2 class names but 3 embedding rows'),
        'dup.pt':
        (dict(class_names=['a', 'b', 'a'],
              embeddings=torch.ones(3, 4)), r"duplicate class names \['a'\]"),
        'empty.pt':
        (dict(class_names=[],
              embeddings=torch.ones(0, 4)), 'the vocabulary is empty'),
        'other.pt':
        (dict(state_dict=dict(w=torch.ones(2))), 'not a vocabulary file'),
        'weights.pt': (dict(w=torch.ones(2, 3),
                            b=torch.ones(2)), 'not a vocabulary file'),
        'per.pt': (dict(
            class_names=['a', 'b'],
            embeddings=torch.ones(2, 4),
            per_template=torch.ones(2, 3, 5)), r'\(C, P, D\) = \(2, P, 4\)'),
    }
    for name, (data, message) in cases.items():
        torch.save(data, tmp_path / name)
        with pytest.raises(ValueError, match=f'{name}.*{message}'):
            load_vocabulary(str(tmp_path / name))


def test_reads_are_cached_until_the_file_changes(tmp_path):
    path = str(tmp_path / 'v.pt')
    save_vocabulary(_vocab(seed=0), path)
    first, second = load_vocabulary(path), load_vocabulary(path)
    assert first.embeddings is second.embeddings  # one read
    second.class_names.append('edited')  # callers get their own lists
    assert load_vocabulary(path).class_names == NAMES
    save_vocabulary(_vocab(seed=1), path)
    st = os.stat(path)
    # a rewrite is seen even if the clock did not move (key: mtime + size)
    os.utime(path, ns=(st.st_atime_ns, st.st_mtime_ns + 10**9))
    third = load_vocabulary(path)
    assert not torch.equal(third.embeddings, first.embeddings)
