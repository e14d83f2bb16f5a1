# Copyright (c) mmclipself contributors. All rights reserved.
"""Export the student image tower of a CLIPSelf checkpoint (open_clip format).

Examples:
    # the plain student of the last epoch
    python tools/model_converters/export_student.py \\
        work_dirs/eva_vitb16_coco/epoch_6.pth eva_vitb16_clipself.pth
    # the release's save-time blend (0.7 for B/16, 0.95 for L/14)
    python tools/model_converters/export_student.py CKPT OUT --alpha 0.7

The output loads into EVA02CLIPViT / OpenAICLIPViT (``pretrained=OUT``),
into open_clip (``create_model(..., pretrained=OUT)``, image tower keys) and,
for EVA02, into timm through its checkpoint filter.
"""
import argparse

import mmclipself  # noqa: F401  (safe loading of MMEngine checkpoints)
from mmclipself.models.utils import (export_student, load_state_dict_file,
                                     save_open_clip_tower)


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
    args = parser.parse_args()
    state = export_student(load_state_dict_file(args.checkpoint), args.alpha)
    save_open_clip_tower(
        state,
        args.out,
        alpha=args.alpha,
        source=args.checkpoint,
        format='open_clip')
    print(f'wrote {len(state)} tensors of the student tower to {args.out}')


if __name__ == '__main__':
    main()
