# Copyright (c) mmclipself contributors. All rights reserved.
"""Load a checkpoint's state dict into a model, all of it or not at all.

MMEngine's ``Runner`` loads ``load_from`` / ``--resume`` checkpoints
non-strictly: a renamed key or a tensor of the wrong shape only prints a
warning and the model runs with a randomly initialised layer. This loader
fails instead, naming the file and listing the missing, unexpected and
wrong-shape keys.

Frozen parts (:mod:`mmclipself.models.utils.frozen`) keep working: their
``load_state_dict`` pre-hook consumes the ``__frozen__`` records and fills
the tower tensors a checkpoint legitimately leaves out, before the keys are
compared.
"""
import re
from collections import OrderedDict
from typing import Callable, List, Mapping, Sequence, Tuple, Union

import torch.nn as nn
from mmengine.runner.checkpoint import CheckpointLoader
from torch import Tensor
from torch.nn.modules.module import _IncompatibleKeys

from mmclipself.models.utils.clip_checkpoint import (  # noqa: F401
    CheckpointMismatchError, _format_keys)

StateDict = Mapping[str, Tensor]


def _shape(value) -> List[int]:
    return list(getattr(value, 'shape', ()))


def _wrong_shapes(module: nn.Module, local: Mapping, prefix: str) -> List[str]:
    """Own tensors of ``module`` whose checkpoint value has another shape."""
    found = []
    own = list(module._parameters.items()) + [
        (n, b) for n, b in module._buffers.items()
        if n not in module._non_persistent_buffers_set
    ]
    for name, param in own:
        key = prefix + name
        if param is None or key not in local:
            continue
        value = local[key]
        if not isinstance(value, Tensor) or isinstance(
                param, nn.parameter.UninitializedParameter):
            continue
        legacy = param.dim() == 0 and tuple(value.shape) == (1, )
        if value.shape != param.shape and not legacy:  # PyTorch takes [x]
            found.append(f'{key} (checkpoint {_shape(value)}, '
                         f'model {_shape(param)})')
    return found


def load_state_dict_strictly(model: nn.Module, state_dict: StateDict,
                             source: str) -> None:
    """Load ``state_dict`` into ``model``; every tensor, right shapes.

    Follows MMEngine's ``load_state_dict`` (the modules' own
    ``_load_from_state_dict`` and load hooks run as usual, BatchNorm's
    ``num_batches_tracked`` may be absent) but raises instead of warning.

    Args:
        model: The (unwrapped) model.
        state_dict: The checkpoint's state dict, keys already revised.
        source: The file it was read from, named in the error.

    Raises:
        CheckpointMismatchError: A key is missing or unexpected, or a tensor
            has another shape than the model's; the message names
            ``source`` and lists the keys. Nothing is guaranteed about the
            model's weights after the error.
    """
    missing: List[str] = []
    unexpected: List[str] = []
    errors: List[str] = []
    wrong: List[str] = []
    metadata = getattr(state_dict, '_metadata', None)
    state = OrderedDict(state_dict)
    if metadata is not None:
        state._metadata = metadata

    def load(module: nn.Module, local: dict, prefix: str = '') -> None:
        local_metadata = {} if metadata is None else metadata.get(
            prefix[:-1], {})
        n_errors = len(errors)
        # runs the module's load pre-hooks, which may edit ``local``
        module._load_from_state_dict(local, prefix, local_metadata, True,
                                     missing, unexpected, errors)
        shapes = _wrong_shapes(module, local, prefix)
        if shapes:  # reported by key below, not as PyTorch's sentences
            wrong.extend(shapes)
            errors[n_errors:] = [
                e for e in errors[n_errors:]
                if not e.startswith('size mismatch for ')
            ]
        for name, child in module._modules.items():
            if child is not None:
                child_prefix = f'{prefix}{name}.'
                load(child, {
                    k: v
                    for k, v in local.items() if k.startswith(child_prefix)
                }, child_prefix)
        incompatible = _IncompatibleKeys(missing, unexpected)
        for hook in module._load_state_dict_post_hooks.values():
            hook(module, incompatible)

    load(model, state)
    missing = [k for k in missing if 'num_batches_tracked' not in k]
    if not (missing or unexpected or wrong or errors):
        return
    parts = []
    if missing:
        parts.append(f'{len(missing)} missing keys {_format_keys(missing)}')
    if unexpected:
        parts.append(f'{len(unexpected)} unexpected keys '
                     f'{_format_keys(unexpected)}')
    if wrong:
        parts.append(f'{len(wrong)} tensors of the wrong shape '
                     f'{_format_keys(wrong)}')
    if errors:
        parts.append('; '.join(errors))
    raise CheckpointMismatchError(
        f'{source} does not match the model {type(model).__name__}: '
        f'{", ".join(parts)}. Is it a checkpoint of this config (same '
        'architecture, CLIP and vocabulary)')


def checkpoint_state_dict(
    checkpoint: Mapping,
    revise_keys: Sequence[Tuple[str, str]] = ((r'^module\.', ''), )
) -> 'OrderedDict[str, Tensor]':
    """The model weights of a checkpoint dict, keys revised.

    As MMEngine's ``_load_checkpoint_to_model``: ``checkpoint['state_dict']``
    if present, else the dict itself; each ``(pattern, replacement)`` of
    ``revise_keys`` applied to the keys with ``re.sub``.
    """
    state = checkpoint.get('state_dict', checkpoint)
    metadata = getattr(state, '_metadata', OrderedDict())
    for pattern, replacement in revise_keys:
        state = OrderedDict(
            (re.sub(pattern, replacement, k), v) for k, v in state.items())
    state._metadata = metadata
    return state


def load_checkpoint_strictly(
        model: nn.Module,
        filename: str,
        map_location: Union[str, Callable] = 'cpu') -> dict:
    """Read ``filename`` (MMEngine's loaders) and load it strictly.

    Args:
        model: The (unwrapped) model.
        filename: Local path or URL of the checkpoint.
        map_location: Where the tensors go.

    Returns:
        The whole checkpoint dict.

    Raises:
        CheckpointMismatchError: See :func:`load_state_dict_strictly`.
    """
    checkpoint = CheckpointLoader.load_checkpoint(
        filename, map_location=map_location)
    if not isinstance(checkpoint, dict):
        raise RuntimeError(f'{filename} holds no checkpoint dict')
    load_state_dict_strictly(model, checkpoint_state_dict(checkpoint),
                             filename)
    return checkpoint
