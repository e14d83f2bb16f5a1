# Copyright (c) mmclipself contributors. All rights reserved.
"""Open-vocabulary semantic segmentation of one image with Cat-Seg.

Examples:
    # free-text classes, encoded by the segmentor's own text tower
    python demo/ov_segmentation_demo.py photo.jpg \\
        configs/catseg/catseg_openai-vitb16_cvpr_coco-stuff.py \\
        --checkpoint catseg.pth --texts "cat, sofa, wall, floor" \\
        --out-dir outputs
    # synonyms: separate the classes with periods
    python demo/ov_segmentation_demo.py photo.jpg CONFIG \\
        --checkpoint CKPT --texts "cat. sofa, couch. wall"
    # a benchmark vocabulary (or a class file, one class per line)
    python demo/ov_segmentation_demo.py photo.jpg CONFIG \\
        --checkpoint CKPT --vocabulary ade20k

Runs :class:`~mmclipself.apis.OVSegInferencer` (MMSegmentation's
``MMSegInferencer``), which draws the predicted classes with
MMSegmentation's ``SegLocalVisualizer`` into ``OUT_DIR/vis/<image name>``
and writes the label map to ``OUT_DIR/pred/``; prints the share of the
image each class covers. Without ``--checkpoint`` the segmentor is
initialised as for training (random Cat-Seg layers): only useful to try
the pipeline.
"""
import argparse
import os.path as osp
import sys
from typing import List, Optional, Sequence

import numpy as np
import torch
from mmengine.config import DictAction

from mmclipself.apis import OVSegInferencer, load_image


def parse_args(argv: Optional[List[str]] = None) -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument('image', help='image file')
    p.add_argument('config', help='Cat-Seg config file')
    p.add_argument(
        '--checkpoint',
        help='segmentor checkpoint (without it the Cat-Seg layers are '
        'random: only useful to try the pipeline)')
    vocab = p.add_mutually_exclusive_group()
    vocab.add_argument(
        '--texts',
        help='class names separated by commas ("cat, sofa, wall"), or by '
        'periods with comma-separated synonyms ("cat. sofa, couch. wall")')
    vocab.add_argument(
        '--vocabulary',
        help='a benchmark vocabulary (e.g. ade20k, coco_stuff) or a class '
        'file; default: the config\'s test vocabulary')
    p.add_argument(
        '--out-dir',
        default='ov_segmentation_results',
        help='drawn image under OUT_DIR/vis, label map under OUT_DIR/pred')
    p.add_argument(
        '--opacity', type=float, default=0.5, help='opacity of the masks')
    p.add_argument(
        '--top-k', type=int, default=20, help='print at most this many')
    p.add_argument(
        '--device', default='cuda:0' if torch.cuda.is_available() else 'cpu')
    p.add_argument(
        '--cfg-options',
        nargs='+',
        action=DictAction,
        help='override config settings, e.g. model.test_cfg.mode=whole')
    return p.parse_args(argv)


def class_shares(label_map: np.ndarray, classes: Sequence[str],
                 top_k: int) -> List[str]:
    """One line per predicted class with its share of the pixels."""
    counts = np.bincount(label_map.ravel(), minlength=len(classes))
    order = np.argsort(-counts, kind='stable')
    total = label_map.size
    return [
        f'{classes[i]:<24} {100 * counts[i] / total:6.2f}%'
        for i in order[:top_k] if counts[i] > 0
    ]


def main(argv: Optional[List[str]] = None) -> None:
    args = parse_args(argv)
    try:
        # cheap checks first: no model is built for a bad input
        load_image(args.image)
        if not osp.isfile(args.config):
            raise FileNotFoundError(f'config not found: {args.config}')
        texts = None
        if args.texts is not None:
            texts = OVSegInferencer.parse_texts(args.texts)
        inferencer = OVSegInferencer(
            args.config,
            args.checkpoint,
            vocabulary=args.vocabulary,
            device=args.device,
            show_progress=False,
            cfg_options=args.cfg_options)
        if texts is not None:
            inferencer.set_texts(texts)
    except (FileNotFoundError, ValueError, TypeError) as e:
        raise SystemExit(f'error: {e}')
    if not args.checkpoint:
        print(
            'warning: no --checkpoint, the Cat-Seg layers are random',
            file=sys.stderr)
    out = inferencer(args.image, out_dir=args.out_dir, opacity=args.opacity)
    classes = inferencer.model.dataset_meta['classes']
    label_map = out['predictions']
    lines = class_shares(label_map, classes, args.top_k)
    present = len(np.unique(label_map))
    print(f'vocabulary: {len(classes)} classes; {present} predicted' +
          (f', the top {len(lines)}:' if present > len(lines) else ':'))
    for line in lines:
        print(line)
    drawn = osp.join(args.out_dir, 'vis', osp.basename(args.image))
    print(f'saved {drawn}')


if __name__ == '__main__':
    main()
