# Copyright (c) mmclipself contributors. All rights reserved.
"""The vocabulary file: one writer, one (cached) reader.

A vocabulary file is a ``torch.save`` dict (readable with
``weights_only=True``)::

    format='mmclipself-vocabulary', format_version=2,
    class_names=[...],                 # C names, background entry included
    embeddings=Tensor(C, D),           # prompt-ensembled, unit rows
    per_template=Tensor(C, P, D),      # one unit embedding per template
    model='EVA02-B-16',                # open_clip model of the text tower
    pretrained='open_clip://...',      # its tag or weight file
    weights=[path, size, mtime_ns],    # the file's fingerprint, if local
    templates='vild', prompt_templates=[...],  # set name and templates
    rule='release', this_is=True, background=True

Older files still load:

- version 1, ``dict(class_names, embeddings, model, pretrained, templates,
  this_is, background)`` of the former ``generate_text_embeddings.py``;
  their names were cleaned by the former rule, which is today's
  ``'panoptic'`` rule, so ``rule`` reads ``'panoptic'``;
- ``dict(class_names, embeddings)`` (provenance unknown);
- the CLIPSelf release's ``{name: (D,) tensor}`` dicts (provenance unknown).
"""
import copy
import functools
import os
import os.path as osp
from typing import Any, Mapping, Optional, Tuple

import torch
from torch import Tensor

from mmclipself.utils.atomic import atomic_torch_save
from .vocabulary import PROVENANCE_KEYS, Vocabulary

FORMAT_NAME = 'mmclipself-vocabulary'
FORMAT_VERSION = 2
_HINT = 'write it with tools/generate_text_embeddings.py'


def vocabulary_from_dict(data: Any, source: str) -> Vocabulary:
    """Interpret the contents of a vocabulary file (any supported layout).

    Args:
        data: The loaded object.
        source: Its file name (or a description), named in errors.

    Raises:
        ValueError: Not a vocabulary, or inconsistent contents.
    """
    if isinstance(data, Mapping) and 'embeddings' in data:
        emb = data['embeddings']
        names = data.get('class_names')
        if names is None:
            raise ValueError(f'{source} has embeddings but no class_names')
        provenance = {k: data.get(k) for k in PROVENANCE_KEYS}
        if data.get('format') == FORMAT_NAME:
            provenance['format'] = f'{FORMAT_NAME}-v{data["format_version"]}'
        elif 'templates' in data:
            # the former tool cleaned every name like today's panoptic rule
            provenance.update(format=f'{FORMAT_NAME}-v1', rule='panoptic')
        else:
            provenance['format'] = 'names-and-embeddings'
        return Vocabulary(
            class_names=list(names),
            embeddings=torch.as_tensor(emb),
            per_template=data.get('per_template'),
            provenance=provenance,
            source=source)
    if isinstance(data, Mapping) and data and all(
            isinstance(k, str) and isinstance(v, Tensor)
            for k, v in data.items()) and len(
                {v.numel()
                 for v in data.values()}) == 1:
        return Vocabulary(
            class_names=list(data),
            embeddings=torch.stack([v.reshape(-1) for v in data.values()]),
            provenance=dict(format='name-to-tensor'),
            source=source)
    raise ValueError(
        f'{source} is not a vocabulary file: expected a dict with '
        '"class_names" and "embeddings" or a {name: (D,) tensor} dict')


@functools.lru_cache(maxsize=8)
def _read(path: str, mtime_ns: int, size: int) -> Vocabulary:
    """Read ``path``; the stat arguments only key the cache."""
    try:
        data = torch.load(path, map_location='cpu', weights_only=True)
    except Exception as e:  # noqa: BLE001 - reported with the file name
        raise ValueError(f'cannot read a vocabulary from {path}: {e}') from e
    return vocabulary_from_dict(data, path)


def _stat_key(path: str) -> Tuple[str, int, int]:
    path = osp.abspath(path)
    st = os.stat(path)
    return path, st.st_mtime_ns, st.st_size


def load_vocabulary(path: str) -> Vocabulary:
    """Read a vocabulary file (any supported layout), cached.

    Reads are cached in-process, keyed by absolute path, modification time
    and size: a rewritten file is read again. The returned tensors are
    shared with the cache; do not modify them in place.

    Args:
        path: A ``.pt`` vocabulary file.

    Raises:
        FileNotFoundError: The file does not exist.
        ValueError: Corrupt or not a vocabulary, names and rows disagree,
            duplicate names or an empty vocabulary; the message names the
            file.
    """
    path = str(path)
    if not osp.isfile(path):
        raise FileNotFoundError(f'vocabulary file not found: {path} '
                                f'({_HINT})')
    vocab = _read(*_stat_key(path))
    # a fresh object: callers may edit names and provenance freely
    out = copy.copy(vocab)
    out.class_names = list(vocab.class_names)
    out.provenance = dict(vocab.provenance)
    return out


def clear_vocabulary_cache() -> None:
    """Forget every cached read."""
    _read.cache_clear()


def save_vocabulary(vocab: Vocabulary,
                    path: str,
                    per_template: bool = True) -> str:
    """Write ``vocab`` atomically (a temporary file, then a rename).

    Args:
        vocab: The vocabulary.
        path: Destination ``.pt`` file; its folder is created.
        per_template: Also store the ``(C, P, D)`` per-template
            embeddings, if any (large: 1203 LVIS classes x 63 templates x
            768 is 0.23 GB).

    Returns:
        ``path``.
    """
    path = str(path)
    data = vocab.to_dict()
    if not per_template:
        data['per_template'] = None
    atomic_torch_save(data, path)
    return path


def file_fingerprint(path: Optional[str]) -> Optional[list]:
    """``[abspath, size, mtime_ns]`` of an existing local file, else None."""
    if not path or not osp.isfile(path):
        return None
    st = os.stat(path)
    return [osp.abspath(path), st.st_size, st.st_mtime_ns]
