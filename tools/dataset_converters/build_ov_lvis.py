# Copyright (c) mmclipself contributors. All rights reserved.
"""Build the OV-LVIS training annotation file (LVIS v1 without rare classes).

From the official LVIS v1 train file, drop the annotations of the rare
categories, keep all 1203 categories and all images, and recompute every
category's ``image_count`` / ``instance_count`` (0 for rare); see
:func:`mmclipself.datasets.build_ov_lvis`::

    python tools/dataset_converters/build_ov_lvis.py \\
        --instances data/lvis_v1/annotations/lvis_v1_train.json \\
        --out data/lvis_v1/annotations/lvis_v1_train_seen_1203_cat.json

Both paths above are the defaults. Next to the output, a small
category-only file (``..._categories.json``: the categories with their
``image_count``) is written: the OV-LVIS F-ViT configs read their base
classes from it, so building a model never parses the ~1 GB training json.
``--categories-only`` writes just that file from an existing ``--out``
file. A summary line of the written file is printed.
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
    parser.add_argument(
        '--categories-out',
        help='category-only file read by the configs for the base classes '
        '(default: --out with the suffix _categories.json)')
    parser.add_argument(
        '--categories-only',
        action='store_true',
        help='only write the category-only file, from the existing --out '
        'file')
    return parser.parse_args(argv)


def _write_json(obj: dict, path: str) -> None:
    if osp.dirname(path):
        os.makedirs(osp.dirname(path), exist_ok=True)
    with open(path, 'w') as f:
        json.dump(obj, f)


def main(argv: Optional[List[str]] = None) -> str:
    """Run the conversion and return the written training file's path.

    With ``--categories-only``, return the category-only file's path.
    """
    args = parse_args(argv)
    # imported late so that argument errors and missing files fail fast
    from mmclipself.vocab import categories_file, category_only
    cats_out = args.categories_out or categories_file(args.out)
    if args.categories_only:
        if not osp.isfile(args.out):
            raise FileNotFoundError(
                f'OV-LVIS training file not found: {args.out}')
        with open(args.out) as f:
            _write_json(category_only(json.load(f)), cats_out)
        print(f'OV-LVIS categories -> {cats_out}')
        return cats_out
    if not osp.isfile(args.instances):
        raise FileNotFoundError(
            f'LVIS instances file not found: {args.instances}')
    from mmclipself.datasets.ov_annotations import (build_ov_lvis,
                                                    summarize_split)
    with open(args.instances) as f:
        src = json.load(f)
    ov = build_ov_lvis(src)
    _write_json(ov, args.out)
    _write_json(category_only(ov), cats_out)
    rare = sum(c['frequency'] == 'r' for c in ov['categories'])
    print(f'OV-LVIS train: {summarize_split(ov)} '
          f'(from {summarize_split(src)}; {rare} rare categories emptied) '
          f'-> {args.out} (categories: {cats_out})')
    return args.out


if __name__ == '__main__':
    main()
