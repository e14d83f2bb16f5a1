# Copyright (c) mmclipself contributors. All rights reserved.
"""Build the OV-LVIS training annotation file (LVIS v1 without rare classes).

From the official LVIS v1 train file, drop the annotations of the rare
categories, keep all 1203 categories and all images, and recompute every
category's ``image_count`` / ``instance_count`` (0 for rare); see
:func:`mmclipself.datasets.build_ov_lvis`::

    python tools/dataset_converters/build_ov_lvis.py \\
        --instances data/lvis_v1/annotations/lvis_v1_train.json \\
        --out data/lvis_v1/annotations/lvis_v1_train_seen_1203_cat.json

Both paths above are the defaults. A summary line of the written file is
printed.
"""
import argparse
import json
import os
import os.path as osp
from typing import List, Optional

DEFAULT_INSTANCES = 'data/lvis_v1/annotations/lvis_v1_train.json'
DEFAULT_OUT = 'data/lvis_v1/annotations/lvis_v1_train_seen_1203_cat.json'


def parse_args(argv: Optional[List[str]] = None) -> argparse.Namespace:
    """Parse the command line (``argv``; ``sys.argv[1:]`` when None)."""
    parser = argparse.ArgumentParser(
        description='Build the OV-LVIS train file (rare annotations removed).')
    parser.add_argument(
        '--instances',
        default=DEFAULT_INSTANCES,
        help=f'official LVIS v1 train json (default: {DEFAULT_INSTANCES})')
    parser.add_argument(
        '--out',
        default=DEFAULT_OUT,
        help=f'output json (default: {DEFAULT_OUT})')
    return parser.parse_args(argv)


def main(argv: Optional[List[str]] = None) -> str:
    """Run the conversion and return the written file's path."""
    args = parse_args(argv)
    if not osp.isfile(args.instances):
        raise FileNotFoundError(
            f'LVIS instances file not found: {args.instances}')
    # imported late so that argument errors and missing files fail fast
    from mmclipself.datasets.ov_annotations import (build_ov_lvis,
                                                    summarize_split)
    with open(args.instances) as f:
        src = json.load(f)
    ov = build_ov_lvis(src)
    if osp.dirname(args.out):
        os.makedirs(osp.dirname(args.out), exist_ok=True)
    with open(args.out, 'w') as f:
        json.dump(ov, f)
    rare = sum(c['frequency'] == 'r' for c in ov['categories'])
    print(f'OV-LVIS train: {summarize_split(ov)} '
          f'(from {summarize_split(src)}; {rare} rare categories emptied) '
          f'-> {args.out}')
    return args.out


if __name__ == '__main__':
    main()
