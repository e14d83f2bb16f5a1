# Copyright (c) mmclipself contributors. All rights reserved.
"""One policy for the frozen parts of a model.

A *frozen part* is a sub-module whose weights never train: the CLIP tower of
F-ViT, the teacher of the CLIPSelf distiller, a frozen text tower. Such a
part

- is frozen (``requires_grad=False``) and kept in eval mode by its owner
  (:class:`FrozenPartsMixin`);
- records where its weights came from and their fingerprint
  (:func:`record_weights`, called by whoever loads them, e.g. the towers'
  ``init_weights``);
- is, by default, left out of checkpoints: the owner's ``state_dict`` keeps
  only a tiny record ``{prefix}{name}.__frozen__`` (source, fingerprint and
  class of the part, JSON in a ``uint8`` tensor so that MMEngine's
  ``weights_to_cpu`` and PyTorch's ``weights_only`` loader accept it);
- is restored on load from its *current* values, after checking that its
  fingerprint equals the recorded one, else a clear error names the tower
  the checkpoint expects. ``load_state_dict`` never reads files or the
  network: the part's weights are read by ``init_weights``, or, in flows
  that never call it (MMEngine's ``Runner.test``/``val``), by
  :func:`init_frozen_parts` (the ``InitFrozenPartsHook`` of the default
  runtime).

Checkpoints written before the record existed load with one warning, as long
as the part has been initialised.

Example::

    class Detector(FrozenPartsMixin, BaseModule):
        def __init__(self, tower):
            super().__init__()
            self.tower = MODELS.build(tower)
            self.register_frozen_part('tower')
"""
import hashlib
import json
import warnings
from collections import OrderedDict
from typing import Callable, Dict, List, Mapping, Optional, Union

import torch
import torch.nn as nn
from torch import Tensor

#: suffix of the record key of a frozen part in a state dict
FROZEN_RECORD_KEY = '__frozen__'
#: number of hex digits of :func:`weights_fingerprint`
FINGERPRINT_LENGTH = 16

_RECORD_ATTR = '_weights_record'
_PARTS_ATTR = '_frozen_parts'
_HOOKED_ATTR = '_frozen_parts_hooked'
_PENDING_ATTR = '_frozen_source_pending'

WeightsRecord = Dict[str, Optional[str]]


class FrozenPartMismatchError(RuntimeError):
    """A checkpoint was written with other frozen weights than the model's."""


def weights_fingerprint(
        weights: Union[nn.Module, Mapping[str, Tensor]]) -> Optional[str]:
    """A short deterministic hash of a state dict.

    Covers, in sorted key order, each key, dtype, shape and the raw bytes of
    the tensor (on the CPU), so it does not depend on the device or on the
    key order. sha256, first :data:`FINGERPRINT_LENGTH` hex digits.

    Args:
        weights: A module (its ``state_dict``) or a ``{key: tensor}`` dict.

    Returns:
        The hex fingerprint, or ``None`` if a tensor lives on the ``meta``
        device (no values to hash).
    """
    state = weights.state_dict() if isinstance(weights, nn.Module) else weights
    h = hashlib.sha256()
    for key in sorted(state):
        value = state[key]
        h.update(key.encode())
        if not isinstance(value, Tensor):
            continue  # e.g. a record or extra state: keys only
        if value.is_meta:
            return None
        value = value.detach()
        h.update(f'|{value.dtype}|{tuple(value.shape)}|'.encode())
        data = value.cpu().contiguous().reshape(-1).view(torch.uint8)
        h.update(data.numpy().tobytes())
    return h.hexdigest()[:FINGERPRINT_LENGTH]


def freeze_module(module: nn.Module) -> nn.Module:
    """``requires_grad=False`` on every parameter and eval mode.

    Returns:
        ``module`` itself.
    """
    module.requires_grad_(False)
    module.eval()
    return module


def record_weights(module: nn.Module,
                   source: Optional[str],
                   fingerprint: Optional[str] = None) -> WeightsRecord:
    """Note on ``module`` where its current weights came from.

    Call it right after loading (or randomly initialising) the weights.

    Args:
        module: The module whose weights were just set.
        source: A file path, ``open_clip://MODEL/TAG``, or ``None`` for a
            random initialisation.
        fingerprint: Their fingerprint if already known; computed otherwise.

    Returns:
        The record ``{'source', 'fingerprint', 'type'}``.
    """
    record = dict(
        source=None if source is None else str(source),
        fingerprint=fingerprint or weights_fingerprint(module),
        type=type(module).__name__)
    object.__setattr__(module, _RECORD_ATTR, record)
    return dict(record)


def weights_record(module: nn.Module) -> Optional[WeightsRecord]:
    """The record of :func:`record_weights`, ``None`` if never recorded."""
    record = getattr(module, _RECORD_ATTR, None)
    return None if record is None else dict(record)


def encode_record(record: Mapping[str, Optional[str]]) -> Tensor:
    """A record as a ``uint8`` tensor (JSON), storable in any checkpoint."""
    data = json.dumps(dict(record), sort_keys=True).encode()
    return torch.tensor(list(data), dtype=torch.uint8)


def decode_record(value: Tensor, key: str = '') -> WeightsRecord:
    """Inverse of :func:`encode_record`.

    Raises:
        ValueError: ``value`` is not an encoded record (names ``key``).
    """
    try:
        data = bytes(value.detach().cpu().to(torch.uint8).tolist())
        record = json.loads(data.decode())
    except (AttributeError, TypeError, ValueError) as e:
        raise ValueError(f'{key}: not a frozen-part record ({e})') from e
    if not isinstance(record, dict) or 'fingerprint' not in record:
        raise ValueError(f'{key}: not a frozen-part record: {record!r}')
    return record


class _FrozenPart:
    """How an owner treats one frozen part."""

    def __init__(self,
                 store_weights: bool,
                 init_fn: Union[None, str, Callable[[], None]],
                 swappable: bool = False) -> None:
        self.store_weights = store_weights
        self.init_fn = init_fn
        self.swappable = swappable


def _describe(record: Optional[Mapping]) -> str:
    if record is None:
        return 'unknown weights'
    source = record.get('source') or 'a random initialisation'
    kind = record.get('type') or 'tower'
    return (f'{kind} from {source} (fingerprint '
            f'{record.get("fingerprint")})')


def is_initialised(part: nn.Module) -> bool:
    """Whether the part's weights were set (recorded, or MMEngine init)."""
    return weights_record(part) is not None or bool(
        getattr(part, 'is_init', False))


def _current_record(part: nn.Module) -> WeightsRecord:
    record = weights_record(part)
    if record is not None:
        return record
    if getattr(part, 'is_init', False):  # initialised without a record
        return record_weights(part, getattr(part, 'pretrained', None))
    return dict(
        source=None,
        fingerprint=weights_fingerprint(part),
        type=type(part).__name__)


def _save_hook(owner: nn.Module, state_dict: Dict, prefix: str,
               local_metadata: Dict) -> None:
    for name, spec in getattr(owner, _PARTS_ATTR).items():
        part = getattr(owner, name)
        part_prefix = f'{prefix}{name}.'
        if not spec.store_weights:
            for key in [k for k in state_dict if k.startswith(part_prefix)]:
                del state_dict[key]
        state_dict[part_prefix + FROZEN_RECORD_KEY] = encode_record(
            _current_record(part))


def _not_initialised_error(qualname: str, expected: str) -> str:
    return (f'the checkpoint has no weights for the frozen part '
            f'{qualname!r} and expects {expected}, but {qualname!r} was never '
            'initialised: call model.init_weights() first (or '
            'mmclipself.models.utils.init_frozen_parts(model)), or run it '
            'through a Runner with the InitFrozenPartsHook (in '
            'configs/_base_/default_runtime.py). MMDetection\'s '
            'init_detector / DetInferencer load checkpoints without either: '
            'use mmclipself.apis.init_ov_detector / OVDetInferencer')


def _load_pre_hook(owner: nn.Module, state_dict: Dict, prefix: str,
                   local_metadata: Dict, strict: bool, missing_keys: List,
                   unexpected_keys: List, error_msgs: List) -> None:
    for name, spec in getattr(owner, _PARTS_ATTR).items():
        part = getattr(owner, name)
        part_prefix = f'{prefix}{name}.'
        record_key = part_prefix + FROZEN_RECORD_KEY
        raw = state_dict.pop(record_key, None)
        saved = None if raw is None else decode_record(raw, record_key)
        given = OrderedDict((k[len(part_prefix):], v)
                            for k, v in state_dict.items()
                            if k.startswith(part_prefix))
        if given:  # stored weights: they are what the part will hold
            # fingerprinted once loaded (see _load_post_hook): the part's
            # own hooks may still convert them (e.g. packed q/k/v keys)
            object.__setattr__(part, _PENDING_ATTR,
                               saved.get('source') if saved else None)
            continue
        qualname = part_prefix[:-1]
        if saved is None:
            if not is_initialised(part):
                raise FrozenPartMismatchError(
                    _not_initialised_error(
                        qualname, 'the weights it was trained with (an old '
                        'checkpoint without a record)'))
            warnings.warn(
                f'the checkpoint has neither weights nor a record for the '
                f'frozen part {qualname!r} (written before frozen parts '
                f'were recorded): using its current weights, '
                f'{_describe(_current_record(part))}, unchecked')
        else:
            current = _current_record(part)
            expected, loaded = saved.get('fingerprint'), current['fingerprint']
            if expected and loaded and expected != loaded:
                if not is_initialised(part):
                    raise FrozenPartMismatchError(
                        _not_initialised_error(qualname, _describe(saved)))
                if spec.swappable:  # no trained weight depends on it
                    warnings.warn(
                        f'the frozen part {qualname!r} differs from the one '
                        f'the checkpoint was trained with '
                        f'({_describe(saved)}); it is swappable (used only '
                        f'at test time), so {_describe(current)} is used')
                    for key, value in part.state_dict().items():
                        state_dict[part_prefix + key] = value
                    continue
                hint = ('Point the part at the weights the checkpoint was '
                        'trained with.')
                if saved.get('source') is None:
                    hint += (' A randomly initialised part is re-made only by '
                             'the same seeded initialisation; to use it '
                             'elsewhere, store it in checkpoints (e.g. '
                             'save_teacher=True, save_clip_weights=True).')
                raise FrozenPartMismatchError(
                    f'the checkpoint was trained with the frozen part '
                    f'{qualname!r} = {_describe(saved)}, but the model holds '
                    f'{_describe(current)}. {hint}')
        for key, value in part.state_dict().items():
            state_dict[part_prefix + key] = value


def _load_post_hook(owner: nn.Module, incompatible_keys) -> None:
    """Record the parts whose weights the checkpoint stored, as loaded."""
    for name in getattr(owner, _PARTS_ATTR):
        part = getattr(owner, name)
        if _PENDING_ATTR in part.__dict__:
            source = part.__dict__.pop(_PENDING_ATTR)
            record_weights(part, source)


def register_frozen_part(owner: nn.Module,
                         name: str,
                         store_weights: bool = False,
                         init_fn: Union[None, str, Callable[[], None]] = None,
                         swappable: bool = False) -> None:
    """Declare ``owner.<name>`` a frozen part (see the module docstring).

    Freezes it and installs, once per owner, a ``state_dict`` post-hook
    (drops its tensors unless ``store_weights``, always writes its record)
    and a ``load_state_dict`` pre-hook (checks the record, fills absent
    tensors with the part's current values).

    Args:
        owner: The module holding the part as a child.
        name: Attribute name of the part.
        store_weights: Keep the part's tensors in checkpoints.
        init_fn: How :func:`init_frozen_parts` initialises the part: a
            callable, or the name of a method of ``owner`` (keeps the model
            picklable); default ``part.init_weights()``. It must leave the
            part recorded (:func:`record_weights`) or MMEngine-initialised.
        swappable: No trained weight depends on the part (it only runs at
            test time, e.g. the CLIP tower that classifies an R50
            Mask2Former's masks): loading a checkpoint recorded with other
            weights warns instead of raising, so one checkpoint can be
            tested with several towers (CLIPSelf Table 5's comparison).

    Raises:
        TypeError: ``owner.<name>`` is not a child module.
    """
    part = owner._modules.get(name)
    if part is None:
        raise TypeError(f'{type(owner).__name__}.{name} is not a child '
                        'module and cannot be a frozen part')
    freeze_module(part)
    parts = owner.__dict__.get(_PARTS_ATTR)
    if parts is None:
        parts = OrderedDict()
        object.__setattr__(owner, _PARTS_ATTR, parts)
    parts[name] = _FrozenPart(store_weights, init_fn, swappable)
    if not owner.__dict__.get(_HOOKED_ATTR, False):
        owner.register_state_dict_post_hook(_save_hook)
        owner.register_load_state_dict_pre_hook(_load_pre_hook)
        owner.register_load_state_dict_post_hook(_load_post_hook)
        object.__setattr__(owner, _HOOKED_ATTR, True)


def frozen_part_names(owner: nn.Module) -> List[str]:
    """Names of the frozen parts declared on ``owner`` (not recursive)."""
    return list(owner.__dict__.get(_PARTS_ATTR, {}))


def set_store_weights(owner: nn.Module, name: str, store: bool) -> None:
    """Change whether ``owner.<name>``'s tensors go into checkpoints."""
    parts = owner.__dict__.get(_PARTS_ATTR, {})
    if name not in parts:
        raise KeyError(f'{type(owner).__name__} has no frozen part {name!r}')
    parts[name].store_weights = bool(store)


def stores_weights(owner: nn.Module, name: str) -> bool:
    """Whether ``owner.<name>``'s tensors go into checkpoints."""
    parts = owner.__dict__.get(_PARTS_ATTR, {})
    if name not in parts:
        raise KeyError(f'{type(owner).__name__} has no frozen part {name!r}')
    return parts[name].store_weights


def init_frozen_parts(model: nn.Module) -> List[str]:
    """Initialise every declared frozen part that is not initialised yet.

    For flows that load a checkpoint without calling ``init_weights``
    (MMEngine's ``Runner`` calls it only in ``train()``): this is where the
    parts' weight files are read, before ``load_state_dict``.

    Args:
        model: Any module (wrappers with ``.module`` are unwrapped by the
            caller).

    Returns:
        Qualified names of the parts initialised now.
    """
    done = []
    for owner_name, owner in model.named_modules():
        for name, spec in owner.__dict__.get(_PARTS_ATTR, {}).items():
            part = getattr(owner, name)
            if is_initialised(part):
                continue
            if isinstance(spec.init_fn, str):
                getattr(owner, spec.init_fn)()
            elif spec.init_fn is not None:
                spec.init_fn()
            else:
                part.init_weights()
            if weights_record(part) is None:
                record_weights(part, getattr(part, 'pretrained', None))
            freeze_module(part)
            done.append(f'{owner_name}.{name}' if owner_name else name)
    return done


class FrozenPartsMixin:
    """Owner side of the policy: declare parts and keep them in eval mode.

    Put it before the ``nn.Module`` base: ``class M(FrozenPartsMixin,
    BaseModule)``.
    """

    def register_frozen_part(self,
                             name: str,
                             store_weights: bool = False,
                             init_fn: Union[None, str, Callable[[],
                                                                None]] = None,
                             swappable: bool = False) -> None:
        """See :func:`register_frozen_part`."""
        register_frozen_part(self, name, store_weights, init_fn, swappable)

    def init_weights(self) -> None:
        """Initialise as the next base does, then re-freeze the parts.

        A part's own ``init_weights`` may set ``requires_grad`` (e.g. a
        tower's ``train_blocks``); the owner's policy wins.
        """
        super().init_weights()
        for name in frozen_part_names(self):
            freeze_module(getattr(self, name))

    def train(self, mode: bool = True):
        """Set the mode, keeping every frozen part in eval mode."""
        super().train(mode)
        for name in frozen_part_names(self):
            getattr(self, name).eval()
        return self
