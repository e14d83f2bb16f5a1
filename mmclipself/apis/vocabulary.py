# Copyright (c) mmclipself contributors. All rights reserved.
"""Vocabularies for open-vocabulary detection: files, dicts or free text.

Free-text class names are encoded with the 63 ViLD prompts and a
"background" entry (the recipe of ``tools/generate_text_embeddings.py``)
by the text tower of the detector's CLIP, into a cached ``.pt`` file that
:class:`~mmclipself.models.TextEmbeddingClassifier` reads.
"""
import hashlib
import json
import os
import os.path as osp
import tempfile
from pathlib import Path
from typing import List, Mapping, Optional, Sequence, Union

import torch

from mmclipself.models.layers.text_embedding_classifier import (
    BACKGROUND, load_text_embeddings)

VocabularyType = Union[str, Path, Sequence[str], Mapping]

#: Environment variable overriding the vocabulary cache directory.
CACHE_ENV = 'MMCLIPSELF_CACHE'


def default_cache_dir() -> str:
    """Where encoded vocabularies are cached.

    ``$MMCLIPSELF_CACHE/vocabularies`` if set, else
    ``~/.cache/mmclipself/vocabularies``.
    """
    root = os.environ.get(CACHE_ENV) or osp.join(
        osp.expanduser('~'), '.cache', 'mmclipself')
    return osp.join(root, 'vocabularies')


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
    repeated = sorted({n for n in names if names.count(n) > 1})
    if repeated:
        raise ValueError(f'class names repeat: {repeated}')
    if BACKGROUND in names:
        raise ValueError(f'"{BACKGROUND}" is reserved for the classifier\'s '
                         'background column; remove it from the classes')
    return names


def _file_fingerprint(path: Optional[str]) -> Optional[list]:
    if path is None or not osp.isfile(path):
        return None
    stat = os.stat(path)
    return [osp.abspath(path), stat.st_size, stat.st_mtime_ns]


def _atomic_save(obj: dict, path: str) -> None:
    os.makedirs(osp.dirname(osp.abspath(path)), exist_ok=True)
    fd, tmp = tempfile.mkstemp(
        suffix='.pt', dir=osp.dirname(osp.abspath(path)))
    os.close(fd)
    try:
        torch.save(obj, tmp)
        os.replace(tmp, path)
    finally:
        if osp.exists(tmp):
            os.remove(tmp)


def encode_vocabulary(class_names: Union[str, Sequence[str]],
                      model_name: str,
                      pretrained: str,
                      device: str = 'cpu',
                      out_file: Optional[str] = None,
                      cache_dir: Optional[str] = None,
                      batch_size: int = 8) -> str:
    """Encode free-text class names into a vocabulary file for F-ViT.

    Uses the recipe of ``tools/generate_text_embeddings.py --background``:
    the 63 ViLD prompts ("This is ..." prefix), prompt-ensembled and
    L2-normalised, plus a ``'background'`` entry last. The result is cached:
    encoding the same names with the same text tower again reads the file.

    Args:
        class_names: Class names (a list or a comma-separated string).
        model_name: open_clip model name of the detector's CLIP, e.g.
            ``'EVA02-B-16'``.
        pretrained: Its weights: a file or ``open_clip://MODEL/TAG``.
        device: Where the text tower runs.
        out_file: Where to write the ``.pt`` file; default: a file named by
            a hash of the inputs in ``cache_dir``.
        cache_dir: Defaults to :func:`default_cache_dir`.
        batch_size: Classes encoded per forward.

    Returns:
        Path of the vocabulary file (``class_names``, ``embeddings``).

    Raises:
        ValueError: Empty or invalid class list, or no ``pretrained``.
    """
    names = parse_class_names(class_names)
    if not pretrained:
        raise ValueError(
            'encode_vocabulary needs the text weights of the detector\'s '
            'CLIP (pretrained=FILE or open_clip://MODEL/TAG)')
    key = dict(
        names=names,
        model=model_name,
        pretrained=pretrained,
        weights=_file_fingerprint(pretrained),
        templates='vild',
        this_is=True)
    digest = hashlib.sha1(json.dumps(key).encode()).hexdigest()[:16]
    if out_file is None:
        safe = ''.join(c if c.isalnum() or c in '-_.' else '_'
                       for c in model_name)
        out_file = osp.join(cache_dir or default_cache_dir(),
                            f'{safe}_{len(names)}cls_{digest}.pt')
        if osp.isfile(out_file):
            try:
                cached, _ = load_text_embeddings(out_file)
                if cached == names + [BACKGROUND]:
                    return out_file
            except (ValueError, FileNotFoundError):
                pass  # unreadable cache entry: encode again
    import open_clip

    from mmclipself.models.text import (VILD_TEMPLATES, build_text_model,
                                        encode_class_names)
    model = build_text_model(model_name, pretrained)
    tokenizer = open_clip.get_tokenizer(model_name)
    all_names = names + [BACKGROUND]
    emb = encode_class_names(
        model,
        tokenizer,
        all_names,
        VILD_TEMPLATES,
        this_is=True,
        batch_size=batch_size,
        device=device)
    _atomic_save(
        dict(
            class_names=all_names,
            embeddings=emb,
            model=model_name,
            pretrained=pretrained,
            templates='vild',
            this_is=True,
            background=True), out_file)
    return out_file


def _vocabulary_from_mapping(vocabulary: Mapping,
                             cache_dir: Optional[str]) -> str:
    """Write an in-memory ``dict(class_names, embeddings)`` to the cache."""
    if 'class_names' not in vocabulary or 'embeddings' not in vocabulary:
        raise ValueError('an in-memory vocabulary must be a dict with '
                         '"class_names" and "embeddings"')
    names = list(vocabulary['class_names'])
    emb = torch.as_tensor(vocabulary['embeddings']).detach().float().cpu()
    h = hashlib.sha1(json.dumps(names).encode())
    h.update(emb.numpy().tobytes())
    path = osp.join(cache_dir or default_cache_dir(),
                    f'memory_{len(names)}cls_{h.hexdigest()[:16]}.pt')
    if not osp.isfile(path):
        _atomic_save(dict(class_names=names, embeddings=emb), path)
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
    names, _ = load_text_embeddings(path)
    names = [n for n in names if n != BACKGROUND]
    if not names:
        raise ValueError(f'{path} holds no class besides "background"')
    return names
