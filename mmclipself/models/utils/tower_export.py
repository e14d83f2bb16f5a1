# Copyright (c) mmclipself contributors. All rights reserved.
"""Write a distilled image tower back in open_clip format."""
from collections import OrderedDict
from typing import Dict, Mapping, Optional

import torch
from torch import Tensor

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
    (EVA02) timm's ``checkpoint_filter_fn``.
    """
    out = OrderedDict()
    for key, value in tower_state.items():
        prefix = next((p for p in _OPEN_CLIP_PREFIXES if key.startswith(p)),
                      None)
        if prefix is None:
            raise KeyError(f'unexpected tower key {key!r}: expected trunk.* '
                           '(EVA02) or visual.* (OpenAI)')
        out[_OPEN_CLIP_PREFIXES[prefix] + key[len(prefix):]] = value
    return out


def export_student(model_state: Mapping[str, Tensor],
                   alpha: Optional[float] = None) -> Dict[str, Tensor]:
    """Student image tower of a distiller checkpoint, in open_clip format.

    Args:
        model_state: ``state_dict`` of a :class:`CLIPSelfDistiller`
            (``student.*`` and ``teacher.*`` keys).
        alpha: If given, blend ``alpha * student + (1 - alpha) * teacher``.

    Returns:
        ``{visual...: tensor}`` ready for ``torch.save``.
    """

    def sub(prefix):
        return OrderedDict((k[len(prefix):], v.detach().cpu())
                           for k, v in model_state.items()
                           if k.startswith(prefix))

    student = sub('student.')
    if not student:
        raise KeyError('no student.* keys: is this a CLIPSelfDistiller '
                       'checkpoint?')
    if alpha is not None:
        student = blend_state_dicts(student, sub('teacher.'), alpha)
    return tower_to_open_clip(student)


def save_open_clip_tower(state: Mapping[str, Tensor], path: str,
                         **meta) -> None:
    """Save ``{'state_dict': state, 'meta': meta}`` to ``path``."""
    torch.save(dict(state_dict=dict(state), meta=meta), path)
