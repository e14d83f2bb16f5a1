# Copyright (c) mmclipself contributors. All rights reserved.
"""Build the OV-COCO (48 base + 17 novel classes) annotation files.

From the official COCO 2017 instances files, write the two files the OV-COCO
configs read (see :func:`mmclipself.datasets.build_ov_coco`)::

    # 65 categories, base-class annotations only
    python tools/dataset_converters/build_ov_coco.py --split train \\
        --instances data/coco/annotations/instances_train2017.json \\
        --out data/coco/annotations/instances_train2017_seen_2_65_cat.json

    # 65 categories, base + novel annotations
    python tools/dataset_converters/build_ov_coco.py --split val \\
        --instances data/coco/annotations/instances_val2017.json \\
        --out data/coco/annotations/instances_val2017_all_2.json

``--instances`` defaults to
``data/coco/annotations/instances_{split}2017.json`` and ``--out`` to the
released file name next to it, so
``python tools/dataset_converters/build_ov_coco.py --split val`` runs the
second command. A summary line of the written file is printed.
"""
import argparse
import json
import os
import os.path as osp
from typing import List, Optional

SPLITS = ('train', 'val')


def parse_args(argv: Optional[List[str]] = None) -> argparse.Namespace:
    """Parse the command line (``argv``; ``sys.argv[1:]`` when None)."""
    parser = argparse.ArgumentParser(
        description='Build OV-COCO annotation files (48 base + 17 novel).')
    parser.add_argument(
        '--split',
        choices=SPLITS,
        default='train',
        help='train: base-class annotations only; val: all 65 classes')
    parser.add_argument(
        '--instances',
        default=None,
        help='official COCO instances json (default: '
        'data/coco/annotations/instances_{split}2017.json)')
    parser.add_argument(
        '--out',
        default=None,
        help='output json (default: the released file name next to '
        '--instances)')
    return parser.parse_args(argv)


def main(argv: Optional[List[str]] = None) -> str:
    """Run the conversion and return the written file's path."""
    args = parse_args(argv)
    instances = args.instances or osp.join('data', 'coco', 'annotations',
                                           f'instances_{args.split}2017.json')
    if not osp.isfile(instances):
        raise FileNotFoundError(f'COCO instances file not found: {instances}')
    # imported late so that argument errors and missing files fail fast
    from mmclipself.datasets.ov_annotations import (OV_COCO_FILES,
                                                    build_ov_coco,
                                                    summarize_split)
    out = args.out or osp.join(
        osp.dirname(instances), OV_COCO_FILES[args.split])
    with open(instances) as f:
        src = json.load(f)
    ov = build_ov_coco(src, args.split)
    if osp.dirname(out):
        os.makedirs(osp.dirname(out), exist_ok=True)
    with open(out, 'w') as f:
        json.dump(ov, f)
    print(f'OV-COCO {args.split}: {summarize_split(ov)} '
          f'(from {summarize_split(src)}) -> {out}')
    return out


if __name__ == '__main__':
    main()
