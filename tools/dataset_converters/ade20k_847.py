# Copyright (c) mmclipself contributors. All rights reserved.
"""Write the ADE-847 (ADE20K-full) validation set of Cat-Seg.

Input: the extracted ``ADE20K_2021_17_01`` folder of the ADE20K full
release (groups.csail.mit.edu/vision/datasets/ADE20K, ``index_ade20k.pkl``
and ``images/ADE/validation/...``). Output, under ``--out-dir`` (default:
the input folder), the layout of Cat-Seg's ``datasets/README.md``::

    images_detectron2/validation/ADE_val_*.jpg        # RGB, re-encoded
    annotations_detectron2/validation/ADE_val_*.tif   # uint16 labels

Follows Cat-Seg's ``datasets/prepare_ade20k_full.py`` (segmentation facts
§2.5): the validation images are those whose file name has ``val`` as its
second ``_`` field; a pixel's ADE20K-full class is ``(R // 10) * 256 + G``
of ``*_seg.png``, mapped to 0..846 by the 847-entry table
``mmclipself/vocab/data/ade847_ade20k_ids.txt`` (any other value -> 65535,
the ignore index); image and label are downscaled so that the short side
is at most 512 (bilinear / nearest, long side rounded), smaller images keep
their size. Class ``k`` is line ``k`` of ``get_class_names('ade847')``::

    python tools/dataset_converters/ade20k_847.py \\
        data/ADE20K_2021_17_01 --nproc 8
"""
import argparse
import os
import os.path as osp
import pickle
from functools import partial
from typing import List, Optional, Sequence, Tuple

import numpy as np

#: label of pixels outside the 847 classes (Cat-Seg's ignore index)
IGNORE = 65535
#: short-side limit of the written images and labels
MAX_SHORT_SIDE = 512
IMAGE_DIR = osp.join('images_detectron2', 'validation')
LABEL_DIR = osp.join('annotations_detectron2', 'validation')


def parse_args(argv: Optional[List[str]] = None) -> argparse.Namespace:
    """Parse the command line (``argv``; ``sys.argv[1:]`` when None)."""
    parser = argparse.ArgumentParser(
        description='Write the ADE-847 validation images and 16-bit labels '
        'from the ADE20K_2021_17_01 release.')
    parser.add_argument(
        'root',
        help='the extracted ADE20K_2021_17_01 folder (holds '
        'index_ade20k.pkl)')
    parser.add_argument(
        '--out-dir',
        default=None,
        help='where images_detectron2/ and annotations_detectron2/ are '
        'written (default: root)')
    parser.add_argument(
        '--nproc', type=int, default=1, help='worker processes')
    return parser.parse_args(argv)


def label_lut() -> np.ndarray:
    """Lookup table from an ADE20K-full class value to the A-847 label.

    Returns:
        ``uint16`` array indexed by ``(R // 10) * 256 + G`` (0..6655):
        ``k`` for the value of class ``k`` of the table, else 65535.
    """
    from mmclipself.vocab.class_names import read_packaged_list
    ids = np.array([int(v) for v in read_packaged_list('ade847_ade20k_ids')],
                   dtype=np.int64)
    lut = np.full(26 * 256, IGNORE, dtype=np.uint16)
    lut[ids] = np.arange(len(ids), dtype=np.uint16)
    return lut


def class_values(seg: np.ndarray) -> np.ndarray:
    """ADE20K-full class value of each pixel of an ``*_seg.png`` array.

    Args:
        seg: ``(H, W, 3+)`` uint8 array, channels R, G, B.

    Returns:
        ``(H, W)`` int32 array, ``(R // 10) * 256 + G``.
    """
    r = seg[..., 0].astype(np.int32)
    g = seg[..., 1].astype(np.int32)
    return r // 10 * 256 + g


def target_size(height: int, width: int) -> Optional[Tuple[int, int]]:
    """``(h, w)`` with the short side at 512, or None to keep the size.

    The long side is ``round(long / short * 512)``, as the release.
    """
    short, long = min(height, width), max(height, width)
    if short <= MAX_SHORT_SIDE:
        return None
    scaled = round(long / short * MAX_SHORT_SIDE)
    if height <= width:
        return MAX_SHORT_SIDE, scaled
    return scaled, MAX_SHORT_SIDE


def convert_one(item: Tuple[str, str], out_dir: str, lut: np.ndarray) -> str:
    """Write the image and label of one validation image.

    Args:
        item: ``(image path, file name)``; the segmentation is the image
            path with ``.jpg`` -> ``_seg.png``.
        out_dir: Root of ``images_detectron2`` / ``annotations_detectron2``.
        lut: :func:`label_lut`.

    Returns:
        The written label file.
    """
    import mmcv
    from PIL import Image
    img_path, name = item
    seg_path = img_path[:-len('.jpg')] + '_seg.png'
    with Image.open(img_path) as f:
        img = np.asarray(f.convert('RGB'))
    with Image.open(seg_path) as f:
        seg = np.asarray(f.convert('RGB'))
    if seg.shape[:2] != img.shape[:2]:
        raise ValueError(f'{seg_path} is {seg.shape[1]}x{seg.shape[0]} but '
                         f'its image is {img.shape[1]}x{img.shape[0]}')
    values = class_values(seg)
    size = target_size(*img.shape[:2])
    if size is not None:
        h, w = size
        img = mmcv.imresize(img, (w, h), interpolation='bilinear')
        values = mmcv.imresize(values, (w, h), interpolation='nearest')
    label = lut[values]
    stem = osp.splitext(name)[0]
    Image.fromarray(img).save(osp.join(out_dir, IMAGE_DIR, stem + '.jpg'))
    label_path = osp.join(out_dir, LABEL_DIR, stem + '.tif')
    Image.fromarray(label).save(label_path)
    return label_path


def validation_items(root: str) -> List[Tuple[str, str]]:
    """``(image path, file name)`` of the validation images of the index.

    ``index_ade20k.pkl`` holds the lists ``folder`` and ``filename``; each
    folder starts with the release's top folder
    (``ADE20K_2021_17_01/images/ADE/validation/...``), which is ``root``.

    Raises:
        FileNotFoundError: No index file, or a listed image is missing.
        ValueError: The index lacks ``folder`` / ``filename``.
    """
    index = osp.join(root, 'index_ade20k.pkl')
    if not osp.isfile(index):
        raise FileNotFoundError(f'ADE20K index not found: {index} (extract '
                                'ADE20K_2021_17_01.zip and pass its folder)')
    with open(index, 'rb') as f:
        data = pickle.load(f)
    missing = [k for k in ('folder', 'filename') if k not in data]
    if missing:
        raise ValueError(f'{index} has no {missing} (not an ADE20K '
                         'index_ade20k.pkl)')
    items = []
    for folder, name in zip(data['folder'], data['filename']):
        fields = name.split('_')
        if len(fields) < 2 or fields[1] != 'val':
            continue
        rel = str(folder).replace('\\', '/').split('/')[1:]
        path = osp.join(root, *rel, name)
        if not osp.isfile(path):
            raise FileNotFoundError(f'image listed in {index} not found: '
                                    f'{path}')
        items.append((path, name))
    if not items:
        raise ValueError(f'{index} lists no validation image (ADE_val_*)')
    return items


def convert(root: str, out_dir: str, nproc: int = 1) -> List[str]:
    """Convert every validation image; return the written label files."""
    from mmengine.utils import track_parallel_progress, track_progress
    if not osp.isdir(root):
        raise FileNotFoundError(f'ADE20K folder not found: {root}')
    items = validation_items(root)
    for sub in (IMAGE_DIR, LABEL_DIR):
        os.makedirs(osp.join(out_dir, sub), exist_ok=True)
    func = partial(convert_one, out_dir=out_dir, lut=label_lut())
    try:
        if nproc > 1:
            return track_parallel_progress(func, items, nproc)
        return track_progress(func, items)
    except (FileNotFoundError, ValueError):
        print()  # end the progress bar's line before the error
        raise


def main(argv: Optional[Sequence[str]] = None) -> List[str]:
    """Run the conversion; print one summary line."""
    args = parse_args(argv)
    out_dir = args.out_dir or args.root
    try:
        labels = convert(args.root, out_dir, args.nproc)
    except (FileNotFoundError, ValueError) as e:
        raise SystemExit(f'error: {e}') from None
    print(f'\nADE-847: {len(labels)} validation images -> '
          f'{osp.join(out_dir, IMAGE_DIR)}, 16-bit labels -> '
          f'{osp.join(out_dir, LABEL_DIR)}')
    return labels


if __name__ == '__main__':
    main()
