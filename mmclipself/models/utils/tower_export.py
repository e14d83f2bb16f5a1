# Copyright (c) mmclipself contributors. All rights reserved.
"""Write a distilled image tower back in open_clip format."""
from collections import OrderedDict
from typing import Dict, Mapping, Optional

from torch import Tensor

from mmclipself.utils.atomic import atomic_torch_save
from ..layers.split_qkv_attention import pack_qkv_keys
from .frozen import FROZEN_RECORD_KEY, decode_record, weights_fingerprint

StateMapping = Mapping[str, Tensor]

#: our tower attribute -> open_clip key prefix of the image tower
_OPEN_CLIP_PREFIXES = {'trunk.': 'visual.trunk.', 'visual.': 'visual.'}


def blend_state_dicts(student: Mapping[str, Tensor], teacher: Mapping[str,
                                                                      Tensor],
                      alpha: float) -> Dict[str, Tensor]:
    """``alpha * student + (1 - alpha) * teacher`` for every float tensor.

    Follows the CLIPSelf release's save-time ensemble (reference facts §2):
    alpha 0.7 for ViT-B/16 and 0.95 for ViT-L/14; training itself continues
    on the un-blended student. Non-float tensors are taken from the student.

    Raises:
        KeyError: The two state dicts do not have the same keys.
    """
    if not 0. <= alpha <= 1.:
        raise ValueError(f'alpha must be in [0, 1], got {alpha}')
    if student.keys() != teacher.keys():
        diff = sorted(set(student) ^ set(teacher))
        raise KeyError(f'student and teacher keys differ: {diff[:10]}')
    out = OrderedDict()
    for key, s in student.items():
        t = teacher[key]
        if s.is_floating_point():
            out[key] = (alpha * s.float() + (1. - alpha) * t.float()).to(
                s.dtype)
        else:
            out[key] = s.clone()
    return out


def tower_to_open_clip(tower_state: Mapping[str, Tensor]) -> Dict[str, Tensor]:
    """Rename a tower's state dict (``trunk.*`` / ``visual.*``) to open_clip.

    EVA02 towers become ``visual.trunk.*`` (open_clip's ``TimmModel``), the
    OpenAI towers ``visual.*``; both load back into mmclipself, open_clip and
    (EVA02) timm's ``checkpoint_filter_fn``. The OpenAI towers' split
    ``attn.{q,k,v}_proj`` are packed back into open_clip's
    ``attn.in_proj_{weight,bias}``.
    """
    out = OrderedDict()
    tower_state = pack_qkv_keys(tower_state, prefixes=('visual.', ))
    for key, value in tower_state.items():
        prefix = next((p for p in _OPEN_CLIP_PREFIXES if key.startswith(p)),
                      None)
        if prefix is None:
            raise KeyError(f'unexpected tower key {key!r}: expected trunk.* '
                           '(EVA02) or visual.* (OpenAI)')
        out[_OPEN_CLIP_PREFIXES[prefix] + key[len(prefix):]] = value
    return out


def teacher_record(model_state: Mapping[str, Tensor]) -> Optional[Dict]:
    """The frozen-part record of a distiller's teacher, if the state has one.

    Written by :mod:`.frozen` as ``teacher.__frozen__``: the teacher's
    weight source (file, ``open_clip://`` tag, or ``None`` for random) and
    fingerprint.
    """
    key = f'teacher.{FROZEN_RECORD_KEY}'
    return decode_record(model_state[key], key) if key in model_state \
        else None


def export_student(
        model_state: Mapping[str, Tensor],
        alpha: Optional[float] = None,
        teacher_state: Optional[StateMapping] = None) -> Dict[str, Tensor]:
    """Student image tower of a distiller checkpoint, in open_clip format.

    Args:
        model_state: ``state_dict`` of a :class:`CLIPSelfDistiller`
            (``student.*`` keys; ``teacher.*`` tensors only if it was saved
            with ``save_teacher=True``, else the ``teacher.__frozen__``
            record).
        alpha: If given, blend ``alpha * student + (1 - alpha) * teacher``.
        teacher_state: The teacher tower's ``state_dict`` (e.g. of the live
            model, or re-made from its recorded source), needed to blend a
            checkpoint without teacher tensors. Its fingerprint must equal
            the recorded one.

    Returns:
        ``{visual...: tensor}`` ready for ``torch.save``.

    Raises:
        KeyError: No student, or nothing to blend with.
        ValueError: ``teacher_state`` is not the teacher of the record.
    """

    def sub(prefix):
        return OrderedDict(
            (k[len(prefix):], v.detach().cpu())
            for k, v in model_state.items()
            if k.startswith(prefix) and not k.endswith(FROZEN_RECORD_KEY))

    student = sub('student.')
    if not student:
        raise KeyError('no student.* keys: is this a CLIPSelfDistiller '
                       'checkpoint?')
    if alpha is not None:
        if teacher_state is None:
            teacher = sub('teacher.')
            if not teacher:
                record = teacher_record(model_state)
                raise KeyError(
                    'the checkpoint holds no teacher.* weights (saved '
                    'with save_teacher=False) and no teacher was given to '
                    'blend with; the teacher was '
                    f'{record.get("source") if record else "unknown"} '
                    '(pass its weights, e.g. --teacher FILE)')
        else:
            teacher = OrderedDict(
                (k, v.detach().cpu()) for k, v in teacher_state.items())
            record = teacher_record(model_state)
            found = weights_fingerprint(teacher)
            if record is not None and record.get('fingerprint') and \
                    found != record['fingerprint']:
                raise ValueError(
                    'the given teacher is not the one the checkpoint was '
                    f'trained with: expected {record.get("source")} '
                    f'(fingerprint {record["fingerprint"]}), got '
                    f'fingerprint {found}')
        student = blend_state_dicts(student, teacher, alpha)
    return tower_to_open_clip(student)


def save_open_clip_tower(state: Mapping[str, Tensor], path: str,
                         **meta) -> None:
    """Save ``{'state_dict': state, 'meta': meta}`` to ``path`` atomically.

    Written to a temporary file in the same directory, then renamed, so a
    crash never leaves a truncated file under ``path``.
    """
    atomic_torch_save(dict(state_dict=dict(state), meta=meta), path)
