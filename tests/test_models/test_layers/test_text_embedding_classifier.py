# Copyright (c) mmclipself contributors. All rights reserved.
import pytest
import torch
import torch.nn.functional as F

from mmclipself.models import TextEmbeddingClassifier, load_text_embeddings
from mmclipself.testing.fvit import write_vocabulary

NAMES = ['person', 'cat', 'cup']


def test_logits_are_temperature_times_cosine_background_last(tmp_path):
    vocab = write_vocabulary(tmp_path / 'v.pt', NAMES, dim=8)
    clf = TextEmbeddingClassifier(8, 4, embeddings=vocab)
    names, emb = load_text_embeddings(vocab)
    assert clf.class_names == NAMES and names[-1] == 'background'
    x = torch.randn(5, 8)
    # by hand: rows person, cat, cup, background; T = 50
    expected = 50 * F.normalize(x, dim=-1) @ F.normalize(emb, dim=-1).t()
    torch.testing.assert_close(clf(x), expected)
    # background and vocabulary are derived from the file, never saved
    assert set(clf.state_dict()) == {'temperature'}
    assert clf.temperature.requires_grad
    clf.eval()
    clf.test_temperature = 20.
    torch.testing.assert_close(clf(x), expected * 20 / 50)


def test_background_from_any_position_and_learned_background(tmp_path):
    path = tmp_path / 'v.pt'
    emb = F.normalize(torch.randn(3, 8), dim=-1)
    torch.save({'background': emb[0], 'cat': emb[1], 'dog': emb[2]}, path)
    clf = TextEmbeddingClassifier(8, 3, embeddings=str(path))
    assert clf.class_names == ['cat', 'dog']
    torch.testing.assert_close(clf.embeddings()[-1], emb[0])
    learned = TextEmbeddingClassifier(
        8, 3, embeddings=str(path), learn_background=True)
    assert 'bg_embedding' in learned.state_dict()
    learned(torch.randn(2, 8)).sum().backward()
    assert learned.bg_embedding.grad is not None


def test_clear_errors(tmp_path):
    vocab = write_vocabulary(tmp_path / 'v.pt', NAMES, dim=8)
    with pytest.raises(FileNotFoundError, match='missing.pt'):
        TextEmbeddingClassifier(8, 4, embeddings=str(tmp_path / 'missing.pt'))
    with pytest.raises(ValueError, match='16-d'):
        TextEmbeddingClassifier(16, 4, embeddings=vocab)
    with pytest.raises(ValueError, match='holds 3 classes.*expects 79'):
        TextEmbeddingClassifier(8, 80, embeddings=vocab)
    no_bg = write_vocabulary(tmp_path / 'n.pt', NAMES, dim=8, background=False)
    with pytest.raises(ValueError, match='no "background" entry'):
        TextEmbeddingClassifier(8, 4, embeddings=no_bg)
    (tmp_path / 'bad.pt').write_bytes(b'not a torch file')
    with pytest.raises(ValueError, match='bad.pt'):
        TextEmbeddingClassifier(8, 4, embeddings=str(tmp_path / 'bad.pt'))
