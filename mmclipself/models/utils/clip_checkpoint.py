# Copyright (c) mmclipself contributors. All rights reserved.
"""Reading CLIP image-tower weights in the formats users have.

Sources (``pretrained`` argument of the backbones):

- a local file: ``.pt`` / ``.pth`` / ``.bin`` (``torch.load``; TorchScript
  archives such as OpenAI's ``ViT-B-16.pt`` through ``torch.jit.load``) or
  ``.safetensors``;
- ``open_clip://MODEL/TAG``: an open_clip pretrained tag, fetched by
  open_clip (needs network or its cache), e.g.
  ``open_clip://EVA02-B-16/merged2b_s8b_b131k``.

Key layouts recognised (after unwrapping ``state_dict`` / ``model`` /
``module`` and a ``module.`` prefix):

- EVA02, open_clip/timm: ``visual.trunk.<timm Eva key>`` or bare timm keys;
- EVA02, original EVA-CLIP ``EVA02_CLIP_*_psz*.pt`` and the official CLIPSelf
  release checkpoints (``eva_vitb16_coco_clipself_patches.pt`` ...):
  ``visual.blocks.i.attn.inner_attn_ln`` / ``mlp.w1`` ... (converted with
  timm's own ``checkpoint_filter_fn``);
- OpenAI ViT, OpenAI/open_clip/CLIPSelf: ``visual.conv1.weight``,
  ``visual.transformer.resblocks.i...`` or the same keys without ``visual.``.

Loading is strict: any missing or unexpected key is an error that lists them.
"""
import os.path as osp
import pickle
import re
from collections import OrderedDict
from typing import Any, Dict, Iterable, Optional

import torch
import torch.nn as nn
from torch import Tensor

OPEN_CLIP_SCHEME = 'open_clip://'
_WRAPPER_KEYS = ('state_dict', 'model', 'module', 'model_ema')
#: errors of opening a file, passed on; PyTorch raises other OSErrors
#: (e.g. EINVAL) for a truncated archive
_CANNOT_OPEN = (FileNotFoundError, IsADirectoryError, PermissionError)


class CheckpointMismatchError(RuntimeError):
    """A checkpoint whose keys or shapes are not the model's."""


def _format_keys(keys: Iterable[str], limit: int = 20) -> str:
    keys = sorted(keys)
    shown = ', '.join(keys[:limit])
    more = f' ... (+{len(keys) - limit} more)' if len(keys) > limit else ''
    return f'[{shown}{more}]'


def resolve_pretrained(pretrained: str,
                       cache_dir: Optional[str] = None) -> str:
    """Turn a ``pretrained`` value into a local file path.

    Args:
        pretrained: A file path or ``open_clip://MODEL/TAG``.
        cache_dir: open_clip's download cache directory.

    Returns:
        Path of an existing file.

    Raises:
        FileNotFoundError: The file does not exist, or the tag could not be
            fetched (no network and not cached).
        ValueError: Unknown open_clip model/tag.
    """
    if pretrained.startswith(OPEN_CLIP_SCHEME):
        import open_clip
        spec = pretrained[len(OPEN_CLIP_SCHEME):]
        model_name, _, tag = spec.partition('/')
        cfg = open_clip.get_pretrained_cfg(model_name, tag)
        if not cfg:
            raise ValueError(
                f'{pretrained}: open_clip has no pretrained tag {tag!r} for '
                f'{model_name!r}; known tags: '
                f'{open_clip.list_pretrained_tags_by_model(model_name)}')
        try:
            path = open_clip.download_pretrained(cfg, cache_dir=cache_dir)
        except Exception as e:  # hub/network errors of various types
            raise FileNotFoundError(
                f'{pretrained}: open_clip could not fetch the weights ({e}). '
                'Without network, download them elsewhere and pass the '
                'local file path instead.') from e
        if not path or not osp.isfile(path):
            raise FileNotFoundError(f'{pretrained}: nothing was downloaded')
        return path
    if not osp.isfile(pretrained):
        raise FileNotFoundError(f'CLIP checkpoint not found: {pretrained}')
    return pretrained


class CheckpointReadError(RuntimeError):
    """A checkpoint file PyTorch's safe loader cannot read.

    The message is one line that names the file and says why (corrupt or
    truncated, or objects the safe loader does not build); PyTorch's own
    error is chained as ``__cause__``. Scripts print the message alone.
    """


def _unreadable(path: str, error: Exception) -> CheckpointReadError:
    """One clear line for a ``torch.load`` failure (never its advice)."""
    text = str(error)
    found = re.search(r'Unsupported global: GLOBAL ([\w.]+)', text)
    if isinstance(error, pickle.UnpicklingError) and found:
        return CheckpointReadError(
            f'{path} holds a Python object ({found.group(1)}) that '
            "PyTorch's safe loader does not build, and mmclipself reads "
            'checkpoints only with the safe loader: save its tensors (the '
            'state_dict) from a trusted environment and use that file')
    return CheckpointReadError(
        f'{path} is corrupt or truncated: PyTorch cannot read it '
        f'({type(error).__name__}); it was probably not saved, downloaded '
        'or copied completely. Fetch or copy it again.')


def _is_torchscript(error: Exception) -> bool:
    return isinstance(error, RuntimeError) and ('TorchScript' in str(error)
                                                or 'jit' in str(error).lower())


def read_torch_file(path: str, mmap: bool = False) -> Any:
    """``torch.load`` a file on the CPU with PyTorch's safe loader.

    Args:
        path: A file written by ``torch.save``.
        mmap: Map the tensors' storage instead of reading it (a cheap
            check that the whole archive and its pickle are intact).

    Returns:
        The loaded object.

    Raises:
        OSError: The file does not exist, is a folder or is not readable.
        CheckpointReadError: The file is corrupt or truncated, or holds
            objects the safe loader does not build.
    """
    try:
        return torch.load(
            path, map_location='cpu', weights_only=True, mmap=mmap)
    except _CANNOT_OPEN:
        raise
    except Exception as e:  # zip, pickle, EOF, OS errors of several types
        if mmap and 'mmap can only be used' in str(e):
            return read_torch_file(path)  # the legacy (pre-zip) format
        raise _unreadable(path, e) from e


def check_checkpoint_file(path: str) -> None:
    """Fail early, naming ``path``, if it is not a readable checkpoint.

    Used by ``tools/train.py`` and ``tools/test.py`` before MMEngine's
    Runner loads the file (whose own error names nothing and repeats
    PyTorch's advice to turn the safe loader off). The tensors are only
    memory-mapped, not read.

    Raises:
        CheckpointReadError: See :func:`read_torch_file`.
    """
    try:
        read_torch_file(path, mmap=True)
    except CheckpointReadError as e:
        if not _is_torchscript(e.__cause__):  # read by torch.jit.load
            raise


def load_state_dict_file(path: str) -> Dict[str, Tensor]:
    """Read a checkpoint file into a flat ``{key: tensor}`` dict.

    Args:
        path: ``.safetensors``, a torch pickle or a TorchScript archive.

    Returns:
        The state dict, unwrapped from ``state_dict`` / ``model`` /
        ``module`` containers and stripped of a ``module.`` prefix.

    Raises:
        CheckpointReadError: The file is corrupt or truncated, or holds
            objects PyTorch's safe loader does not build.
    """
    if path.endswith('.safetensors'):
        from safetensors.torch import load_file
        try:
            obj = load_file(path, device='cpu')
        except _CANNOT_OPEN:
            raise
        except Exception as e:  # safetensors' own error types
            raise _unreadable(path, e) from e
    else:
        try:
            obj = read_torch_file(path)
        except CheckpointReadError as e:
            if not _is_torchscript(e.__cause__):
                raise
            obj = torch.jit.load(path, map_location='cpu').state_dict()
    for _ in range(3):
        if isinstance(obj, dict):
            inner = next(
                (obj[k]
                 for k in _WRAPPER_KEYS if isinstance(obj.get(k), dict)), None)
            if inner is not None and not any(
                    isinstance(v, Tensor) for v in obj.values()):
                obj = inner
                continue
        break
    if not isinstance(obj, dict) or not obj:
        raise RuntimeError(f'{path} holds no state dict')
    state = OrderedDict(
        (k[len('module.'):] if k.startswith('module.') else k, v)
        for k, v in obj.items() if isinstance(v, Tensor))
    if not state:
        raise RuntimeError(f'{path} holds no tensors')
    return state


def strip_prefix(state: Dict[str, Tensor], prefix: str) -> Dict[str, Tensor]:
    """Keep the keys under ``prefix`` and remove it."""
    return OrderedDict(
        (k[len(prefix):], v) for k, v in state.items() if k.startswith(prefix))


def load_strict(module: nn.Module,
                state: Dict[str, Tensor],
                source: str,
                ignore_missing: Iterable[str] = ()) -> None:
    """Load ``state`` into ``module`` and fail loudly on any mismatch.

    Args:
        module: Target module.
        state: Converted state dict.
        source: Where it came from, for the error message.
        ignore_missing: Target keys allowed to be missing (non-persistent
            buffers recomputed by the module).

    Raises:
        CheckpointMismatchError: Listing the missing and unexpected keys and
            the tensors of the wrong shape (checkpoint and model shapes),
            naming ``source``.
    """
    own = module.state_dict()
    expected = set(own.keys())
    given = set(state.keys())
    missing = expected - given - set(ignore_missing)
    unexpected = given - expected
    wrong = [
        f'{k} (checkpoint {list(state[k].shape)}, model '
        f'{list(own[k].shape)})' for k in sorted(expected & given)
        if isinstance(state[k], Tensor) and state[k].shape != own[k].shape
    ]
    if missing or unexpected or wrong:
        parts = [
            f'{len(missing)} missing keys {_format_keys(missing)}',
            f'{len(unexpected)} unexpected keys {_format_keys(unexpected)}'
        ]
        if wrong:
            parts.append(f'{len(wrong)} tensors of the wrong shape '
                         f'{_format_keys(wrong)}')
        raise CheckpointMismatchError(
            f'{source} does not match {type(module).__name__}: ' +
            ', '.join(parts) + '. Is it the right architecture and format?')
    module.load_state_dict(state, strict=not ignore_missing)
