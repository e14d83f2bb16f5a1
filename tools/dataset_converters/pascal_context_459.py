# Copyright (c) mmclipself contributors. All rights reserved.
"""Write the PC-459 (PASCAL-Context, 459 classes) validation labels.

Inputs, in the ``VOCdevkit/VOC2010`` folder (``root``):

- ``VOCtrainval_03-May-2010.tar`` extracted (``JPEGImages/``, the images
  the labels belong to);
- the full PASCAL-Context annotations ``trainval.tar.gz``
  (cs.stanford.edu/~roozbeh/pascal-context) extracted: ``trainval/<id>.mat``
  with a ``LabelMap`` of the classes 1..459 (and ``labels.txt``);
- the list of the 5104 validation ids, ``pascalcontext_val.txt``
  (``datasets/pascalcontext_val.txt`` of Cat-Seg,
  github.com/cvlab-kaist/CAT-Seg), or any list given with ``--val-list``.

Output, under ``--out-dir`` (default: ``root``), the layout of Cat-Seg's
``datasets/README.md``: ``annotations_detectron2/pc459_val/<id>.tif``,
uint16, ``LabelMap - 1`` (0..458; class ``k`` is line ``k`` of
``get_class_names('pc459')``). Follows Cat-Seg's
``datasets/prepare_pascal_context_459.py`` (segmentation facts §2.5): ids
without a ``.mat`` file are skipped (and counted); a ``LabelMap`` value
outside 1..459 is an error (the release asserts that no label is below 0,
so its ignore index 459 never occurs)::

    python tools/dataset_converters/pascal_context_459.py \\
        data/VOCdevkit/VOC2010 --nproc 8
"""
import argparse
import os
import os.path as osp
from functools import partial
from typing import List, Optional, Sequence, Tuple

import numpy as np

#: number of PASCAL-Context classes (LabelMap values 1..459)
NUM_CLASSES = 459
LABEL_DIR = osp.join('annotations_detectron2', 'pc459_val')
_LIST_HINT = ('download datasets/pascalcontext_val.txt of Cat-Seg '
              '(github.com/cvlab-kaist/CAT-Seg) into the VOC2010 folder, '
              'or pass --val-list')


def parse_args(argv: Optional[List[str]] = None) -> argparse.Namespace:
    """Parse the command line (``argv``; ``sys.argv[1:]`` when None)."""
    parser = argparse.ArgumentParser(
        description='Write the PC-459 validation labels (16-bit TIFF) from '
        'the PASCAL-Context trainval/<id>.mat files.')
    parser.add_argument(
        'root', help='the VOCdevkit/VOC2010 folder (holds trainval/)')
    parser.add_argument(
        '--val-list',
        default=None,
        help='validation ids, one a line (default: '
        'root/pascalcontext_val.txt)')
    parser.add_argument(
        '--out-dir',
        default=None,
        help='where annotations_detectron2/pc459_val/ is written '
        '(default: root)')
    parser.add_argument(
        '--nproc', type=int, default=1, help='worker processes')
    return parser.parse_args(argv)


def read_ids(path: str) -> List[str]:
    """The ids of a list file, one a line, blank lines skipped.

    Raises:
        FileNotFoundError: No such file (the message says where to get
            Cat-Seg's list).
        ValueError: It lists no id.
    """
    if not osp.isfile(path):
        raise FileNotFoundError(f'validation list not found: {path} '
                                f'({_LIST_HINT})')
    with open(path) as f:
        ids = [line.strip() for line in f if line.strip()]
    if not ids:
        raise ValueError(f'{path} lists no image id')
    return ids


def load_label_map(path: str) -> np.ndarray:
    """``LabelMap - 1`` of a PASCAL-Context ``.mat`` file, as uint16.

    Raises:
        ValueError: No ``LabelMap``, or a value outside 1..459 (named).
    """
    from scipy.io import loadmat
    mat = loadmat(path)
    if 'LabelMap' not in mat:
        raise ValueError(f'{path} has no LabelMap (keys: '
                         f'{sorted(k for k in mat if not k.startswith("_"))})')
    label = np.asarray(mat['LabelMap']).astype(np.int64) - 1
    bad = (label < 0) | (label >= NUM_CLASSES)
    if bad.any():
        raise ValueError(f'{path}: LabelMap value {int(label[bad][0]) + 1} '
                         f'outside 1..{NUM_CLASSES}')
    return label.astype(np.uint16)


def convert_one(item: Tuple[str, str], label_dir: str) -> str:
    """Write ``<label_dir>/<id>.tif`` from ``(id, .mat path)``."""
    from PIL import Image
    img_id, mat_path = item
    out = osp.join(label_dir, f'{img_id}.tif')
    Image.fromarray(load_label_map(mat_path)).save(out)
    return out


def convert(root: str,
            val_list: str,
            out_dir: str,
            nproc: int = 1) -> Tuple[List[str], List[str]]:
    """Convert the listed ids.

    Returns:
        The written label files and the ids without a ``.mat`` file.
    """
    from mmengine.utils import track_parallel_progress, track_progress
    mat_dir = osp.join(root, 'trainval')
    if not osp.isdir(mat_dir):
        raise FileNotFoundError(
            f'PASCAL-Context annotation folder not found: {mat_dir} '
            '(extract trainval.tar.gz into the VOC2010 folder)')
    ids = read_ids(val_list)
    items, skipped = [], []
    for img_id in ids:
        mat = osp.join(mat_dir, f'{img_id}.mat')
        if osp.isfile(mat):
            items.append((img_id, mat))
        else:
            skipped.append(img_id)
    if not items:
        raise FileNotFoundError(f'none of the {len(ids)} ids of {val_list} '
                                f'has a .mat file in {mat_dir}')
    label_dir = osp.join(out_dir, LABEL_DIR)
    os.makedirs(label_dir, exist_ok=True)
    func = partial(convert_one, label_dir=label_dir)
    try:
        if nproc > 1:
            return track_parallel_progress(func, items, nproc), skipped
        return track_progress(func, items), skipped
    except (FileNotFoundError, ValueError):
        print()  # end the progress bar's line before the error
        raise


def main(argv: Optional[Sequence[str]] = None) -> List[str]:
    """Run the conversion; print one summary line."""
    args = parse_args(argv)
    val_list = args.val_list or osp.join(args.root, 'pascalcontext_val.txt')
    out_dir = args.out_dir or args.root
    try:
        labels, skipped = convert(args.root, val_list, out_dir, args.nproc)
    except (FileNotFoundError, ValueError) as e:
        raise SystemExit(f'error: {e}') from None
    line = (f'\nPC-459: {len(labels)} validation labels -> '
            f'{osp.join(out_dir, LABEL_DIR)}')
    if skipped:
        line += (f'; {len(skipped)} listed ids have no .mat file, skipped '
                 f'(first: {skipped[0]})')
    no_image = [
        i for i in (osp.splitext(osp.basename(p))[0] for p in labels)
        if not osp.isfile(osp.join(args.root, 'JPEGImages', f'{i}.jpg'))
    ]
    if no_image:
        line += (f'; {len(no_image)} have no image in '
                 f'{osp.join(args.root, "JPEGImages")} (first: '
                 f'{no_image[0]}.jpg)')
    print(line)
    return labels


if __name__ == '__main__':
    main()
