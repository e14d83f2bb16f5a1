# Copyright (c) mmclipself contributors. All rights reserved.
"""Export the student image tower of a CLIPSelf checkpoint (open_clip format).

Examples:
    # the plain student of the last epoch
    python tools/model_converters/export_student.py \\
        work_dirs/eva_vitb16_coco/epoch_6.pth eva_vitb16_clipself.pth
    # the release's save-time blend (0.7 for B/16, 0.95 for L/14)
    python tools/model_converters/export_student.py CKPT OUT --alpha 0.7

Checkpoints hold no teacher (it equals the pretrained weights) but a record
of its source and fingerprint. To blend, the teacher is re-made from
``--teacher FILE`` (or ``open_clip://MODEL/TAG``), else from the recorded
source, with the tower of the training config (``--config``, else the one
MMEngine stored in the checkpoint), and checked against the fingerprint.

The output loads into EVA02CLIPViT / OpenAICLIPViT (``pretrained=OUT``),
into open_clip (``create_model(..., pretrained=OUT)``, image tower keys) and,
for EVA02, into timm through its checkpoint filter.
"""
import argparse
import os.path as osp
from collections import OrderedDict
from typing import Dict, Optional

from torch import Tensor

import mmclipself  # noqa: F401  (safe loading of MMEngine checkpoints)
from mmclipself.engine import CheckpointMismatchError, load_state_dict_strictly
from mmclipself.models.utils import (export_student, load_state_dict_file,
                                     save_open_clip_tower)
from mmclipself.models.utils.clip_checkpoint import (OPEN_CLIP_SCHEME,
                                                     CheckpointReadError,
                                                     read_torch_file)
from mmclipself.models.utils.frozen import FROZEN_RECORD_KEY
from mmclipself.models.utils.tower_export import teacher_record

StateDict = Dict[str, Tensor]


def _checkpoint_config(checkpoint: str, config: Optional[str]):
    from mmengine.config import Config
    if config is not None:
        return Config.fromfile(config)
    obj = read_torch_file(checkpoint)
    cfg = obj.get('meta', {}).get('cfg') if isinstance(obj, dict) else None
    if not cfg:
        raise ValueError(f'{checkpoint} stores no training config '
                         '(meta.cfg): pass --config')
    return Config.fromstring(cfg, file_format='.py')


def check_student(checkpoint: str, state: StateDict,
                  config: Optional[str]) -> bool:
    """Load the ``student.*`` tensors strictly into the config's student.

    So that a renamed key or a wrong-shaped tensor fails here, naming the
    file and the keys, rather than being exported.

    Returns:
        ``False`` if no config is available (``--config``, else the one
        MMEngine stored in the checkpoint): nothing was checked.

    Raises:
        CheckpointMismatchError: The student tensors are not the tower's.
    """
    try:
        cfg = _checkpoint_config(checkpoint, config)
    except ValueError:
        return False
    from mmengine.registry import init_default_scope

    from mmclipself.registry import MODELS
    init_default_scope(cfg.get('default_scope', 'mmclipself'))
    student = MODELS.build(cfg.model.student)
    load_state_dict_strictly(
        student,
        OrderedDict((k[len('student.'):], v) for k, v in state.items()
                    if k.startswith('student.')), checkpoint)
    return True


def remake_teacher(checkpoint: str, state: StateDict, source: Optional[str],
                   config: Optional[str]) -> StateDict:
    """The distiller's teacher tower re-made from ``source`` (or the record).

    Raises:
        ValueError: No usable source (the teacher was a random tower, or its
            recorded file is gone).
    """
    from mmengine.registry import init_default_scope

    from mmclipself.registry import MODELS
    record = teacher_record(state)
    if source is None:
        source = record.get('source') if record else None
        if source is None:
            raise ValueError(
                f'{checkpoint} holds no teacher weights and ' +
                ('records a randomly initialised teacher, which cannot be '
                 're-made' if record else 'no teacher record') +
                ': pass --teacher FILE, or train with save_teacher=True')
        if not source.startswith(OPEN_CLIP_SCHEME) and \
                not osp.isfile(source):
            raise ValueError(
                f'the teacher of {checkpoint} was read from {source}, which '
                'no longer exists: pass --teacher FILE')
    cfg = _checkpoint_config(checkpoint, config)
    init_default_scope(cfg.get('default_scope', 'mmclipself'))
    model = MODELS.build(cfg.model)
    model.teacher.load_pretrained(source)
    return model.teacher.state_dict()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('checkpoint', help='CLIPSelfDistiller checkpoint')
    parser.add_argument('out', help='output .pth')
    parser.add_argument(
        '--alpha',
        type=float,
        default=None,
        help='blend alpha*student + (1-alpha)*teacher (release: 0.7 B/16, '
        '0.95 L/14); default: the plain student')
    parser.add_argument(
        '--teacher',
        help='teacher weights (file or open_clip://MODEL/TAG) for --alpha, '
        'when the checkpoint holds none; default: its recorded source')
    parser.add_argument(
        '--config',
        help='training config, to build the teacher tower; default: the '
        'config stored in the checkpoint')
    args = parser.parse_args()
    state = load_state_dict_file(args.checkpoint)
    if not check_student(args.checkpoint, state, args.config):
        print(f'{args.checkpoint} stores no training config (meta.cfg): the '
              'student tensors were not checked against the tower; pass '
              '--config to check them')
    teacher = None
    has_teacher = any(
        k.startswith('teacher.') and not k.endswith(FROZEN_RECORD_KEY)
        for k in state)
    if args.alpha is not None and (args.teacher or not has_teacher):
        teacher = remake_teacher(args.checkpoint, state, args.teacher,
                                 args.config)
    out = export_student(state, args.alpha, teacher_state=teacher)
    save_open_clip_tower(
        out,
        args.out,
        alpha=args.alpha,
        source=args.checkpoint,
        format='open_clip')
    print(f'wrote {len(out)} tensors of the student tower to {args.out}')


if __name__ == '__main__':
    try:
        main()
    except (CheckpointReadError, CheckpointMismatchError) as e:
        # one line naming the file (and the keys); the cause is chained
        raise SystemExit(f'error: {e}')
