# Copyright (c) mmclipself contributors. All rights reserved.
"""Vocabularies for open-vocabulary detection: files, dicts or free text.

Thin wrappers around :mod:`mmclipself.vocab`: free-text class names are
encoded with the 63 ViLD prompts and a "background" entry (the recipe of
``tools/generate_text_embeddings.py --background``) by the text tower of the
detector's CLIP (:class:`~mmclipself.models.CLIPTextEncoder`) into a
vocabulary file cached in ``$MMCLIPSELF_CACHE/vocabularies``, which
:class:`~mmclipself.models.TextEmbeddingClassifier` reads.
"""
import hashlib
import json
import os.path as osp
from pathlib import Path
from typing import List, Mapping, Optional, Sequence, Union

import torch

from mmclipself.vocab import (BACKGROUND, CACHE_ENV, Vocabulary,
                              cached_vocabulary_path, check_class_names,
                              default_cache_dir, embed_class_names,
                              file_fingerprint, load_vocabulary,
                              save_vocabulary, vocabulary_from_dict)

VocabularyType = Union[str, Path, Sequence[str], Mapping]

__all__ = [
    'VocabularyType', 'CACHE_ENV', 'default_cache_dir', 'parse_class_names',
    'encode_vocabulary', 'resolve_vocabulary', 'vocabulary_names'
]


def parse_class_names(classes: Union[str, Sequence[str]]) -> List[str]:
    """Clean a user's class list: ``'cat, coffee cup,person'`` or a list.

    Args:
        classes: Comma-separated names or a sequence of names.

    Returns:
        The stripped, non-empty names in their order.

    Raises:
        ValueError: No name is left, a name repeats, or a name is the
            reserved ``'background'``.
    """
    if isinstance(classes, str):
        classes = classes.split(',')
    names = [str(c).strip() for c in classes]
    names = [n for n in names if n]
    if not names:
        raise ValueError('the class list is empty: give at least one class '
                         'name, e.g. "cat,coffee cup,person"')
    check_class_names(names, 'the class list')  # repeated names
    if BACKGROUND in names:
        raise ValueError(f'"{BACKGROUND}" is reserved for the classifier\'s '
                         'background column; remove it from the classes')
    return names


def encode_vocabulary(class_names: Union[str, Sequence[str]],
                      model_name: str,
                      pretrained: str,
                      device: str = 'cpu',
                      out_file: Optional[str] = None,
                      cache_dir: Optional[str] = None,
                      batch_size: int = 8) -> str:
    """Encode free-text class names into a vocabulary file for F-ViT.

    Uses the recipe of ``tools/generate_text_embeddings.py --background``:
    the 63 ViLD prompts ("This is ..." prefix), the release's name
    clean-up, prompt-ensembled and L2-normalised (per-template embeddings
    kept), plus a ``'background'`` entry last. The result is cached:
    encoding the same names with the same text tower again reads the file.

    Args:
        class_names: Class names (a list or a comma-separated string).
        model_name: open_clip model name of the detector's CLIP, e.g.
            ``'EVA02-B-16'``.
        pretrained: Its weights: a file or ``open_clip://MODEL/TAG``.
        device: Where the text tower runs.
        out_file: Where to write the ``.pt`` file; default: a file named by
            a hash of the inputs in ``cache_dir``.
        cache_dir: Defaults to :func:`~mmclipself.vocab.default_cache_dir`.
        batch_size: Classes encoded per forward.

    Returns:
        Path of the vocabulary file.

    Raises:
        ValueError: Empty or invalid class list, or no ``pretrained``.
    """
    names = parse_class_names(class_names)
    if not pretrained:
        raise ValueError(
            'encode_vocabulary needs the text weights of the detector\'s '
            'CLIP (pretrained=FILE or open_clip://MODEL/TAG)')
    all_names = names + [BACKGROUND]
    if out_file is None:
        key = dict(
            names=names,
            model=model_name,
            pretrained=pretrained,
            weights=file_fingerprint(pretrained),
            templates='vild',
            rule='release',
            this_is=True)
        out_file = cached_vocabulary_path(key, model_name, len(names),
                                          cache_dir)
        if osp.isfile(out_file):
            try:
                if load_vocabulary(out_file).class_names == all_names:
                    return out_file
            except ValueError:
                pass  # unreadable cache entry: encode again
    from mmclipself.models.text import build_text_model
    model = build_text_model(model_name, pretrained)
    vocab = embed_class_names(
        model,
        all_names,
        templates='vild',
        rule='release',
        this_is=True,
        batch_size=batch_size,
        device=device)
    return save_vocabulary(vocab, out_file)


def _vocabulary_from_mapping(vocabulary: Mapping,
                             cache_dir: Optional[str]) -> str:
    """Write an in-memory vocabulary dict to the cache."""
    if 'class_names' not in vocabulary or 'embeddings' not in vocabulary:
        raise ValueError('an in-memory vocabulary must be a dict with '
                         '"class_names" and "embeddings"')
    data = dict(vocabulary)
    data['embeddings'] = torch.as_tensor(
        data['embeddings']).detach().float().cpu()
    vocab: Vocabulary = vocabulary_from_dict(data, 'in-memory vocabulary')
    h = hashlib.sha1(json.dumps(vocab.class_names).encode())
    h.update(vocab.embeddings.numpy().tobytes())
    path = osp.join(cache_dir or default_cache_dir(),
                    f'memory_{vocab.num_classes}cls_{h.hexdigest()[:16]}.pt')
    if not osp.isfile(path):
        save_vocabulary(vocab, path)
    return path


def resolve_vocabulary(vocabulary: VocabularyType,
                       text_model: Optional[str] = None,
                       text_pretrained: Optional[str] = None,
                       device: str = 'cpu',
                       cache_dir: Optional[str] = None) -> str:
    """Turn any vocabulary form into a vocabulary ``.pt`` file path.

    Args:
        vocabulary: A vocabulary file (``tools/generate_text_embeddings.py``
            with ``--background``), a list of free-text class names (encoded
            with ``text_model``) or a ``dict(class_names, embeddings)``.
        text_model: open_clip model name for class names.
        text_pretrained: Its weights.
        device: Where the text tower runs.
        cache_dir: See :func:`encode_vocabulary`.

    Returns:
        Path of an existing vocabulary file.

    Raises:
        FileNotFoundError: A vocabulary file that does not exist.
        ValueError: Class names without a text model, or invalid input.
    """
    if isinstance(vocabulary, (str, Path)):
        path = str(vocabulary)
        if not osp.isfile(path):
            raise FileNotFoundError(
                f'vocabulary file not found: {path} (write one with '
                'tools/generate_text_embeddings.py --background, or pass a '
                'list of class names with a text model)')
        return path
    if isinstance(vocabulary, Mapping):
        return _vocabulary_from_mapping(vocabulary, cache_dir)
    names = parse_class_names(vocabulary)
    if not text_model or not text_pretrained:
        raise ValueError(
            'free-text class names need the text tower of the detector\'s '
            'CLIP: pass text_model (e.g. "EVA02-B-16") and text_pretrained '
            '(e.g. "open_clip://EVA02-B-16/merged2b_s8b_b131k")')
    return encode_vocabulary(
        names, text_model, text_pretrained, device, cache_dir=cache_dir)


def vocabulary_names(path: str) -> List[str]:
    """The class names of a vocabulary file, background excluded."""
    classes, _ = load_vocabulary(path).split_background()
    return classes.class_names
