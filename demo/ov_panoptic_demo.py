# Copyright (c) mmclipself contributors. All rights reserved.
"""Open-vocabulary panoptic segmentation of one image (mask classification).

Examples:
    # thing and stuff classes in free text, encoded by the text tower of
    # the CLIP whose dense map classifies the masks
    python demo/ov_panoptic_demo.py photo.jpg CONFIG --checkpoint CKPT \\
        --texts "cat, person" --stuff-texts "wall, floor, sky" \\
        --out-dir outputs
    # synonyms: separate the classes with periods
    python demo/ov_panoptic_demo.py photo.jpg CONFIG --checkpoint CKPT \\
        --texts "cat. person" --stuff-texts "sofa, couch. wall"

Runs :class:`~mmclipself.apis.OVPanopticInferencer` (MMDetection's
``DetInferencer``) on an ``OVMask2Former`` config (``configs/maskcls/``),
which draws the segments with MMDetection's ``DetLocalVisualizer`` into
``OUT_DIR/vis/<image name>`` and writes the panoptic map (MMDetection's
RGB-encoded ids) and a json with the segments to ``OUT_DIR/preds/``; prints
one line per segment (class, thing/stuff, share of the image). Without
``--texts`` / ``--stuff-texts`` the config's test vocabulary is used.
Without ``--checkpoint`` the mask generator is random (the CLIP tower is
read from its ``pretrained``): only useful to try the pipeline.
"""
import argparse
import os.path as osp
import sys
from typing import List, Optional, Sequence

import torch
from mmengine.config import DictAction

from mmclipself.apis import OVPanopticInferencer, OVSegInferencer, load_image


def parse_args(argv: Optional[List[str]] = None) -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument('image', help='image file')
    p.add_argument('config', help='OVMask2Former config file')
    p.add_argument(
        '--checkpoint',
        help='model checkpoint (without it the mask generator is random: '
        'only useful to try the pipeline)')
    p.add_argument(
        '--texts',
        help='thing classes (one segment per object), separated by commas '
        '("cat, person"), or by periods with comma-separated synonyms '
        '("cat. person, human")')
    p.add_argument(
        '--stuff-texts',
        help='stuff classes (one segment per class), written as --texts')
    p.add_argument(
        '--text-model',
        help='open_clip model whose text tower encodes the classes; '
        'default: the CLIP of the config\'s CLIP tower (e.g. '
        'ViT-L-14-336-quickgelu for OpenAI vit-l14-336)')
    p.add_argument(
        '--text-pretrained',
        help='its weights (a file or open_clip://MODEL/TAG); default: the '
        'CLIP tower\'s pretrained source if it holds a text tower')
    p.add_argument(
        '--text-model-config',
        help='open_clip model config JSON of a custom --text-model '
        '(registered under its file name)')
    p.add_argument(
        '--out-dir',
        default='ov_panoptic_results',
        help='drawn image under OUT_DIR/vis, predictions under OUT_DIR/preds')
    p.add_argument(
        '--score-thr',
        type=float,
        default=0.3,
        help='draw instances (test_cfg.instance_on) with at least this score')
    p.add_argument(
        '--top-k', type=int, default=20, help='print at most this many')
    p.add_argument(
        '--device', default='cuda:0' if torch.cuda.is_available() else 'cpu')
    p.add_argument(
        '--cfg-options',
        nargs='+',
        action=DictAction,
        help='override config settings, e.g. model.clip_mode=clip_only '
        'model.test_cfg.instance_on=False')
    return p.parse_args(argv)


def segment_lines(segments: Sequence[dict], num_pixels: int,
                  top_k: int) -> List[str]:
    """One line per segment, largest first: class, kind, share."""
    order = sorted(segments, key=lambda s: -s['area'])[:top_k]
    return [
        f'{s["name"]:<24} {"thing" if s["isthing"] else "stuff"}  '
        f'{100 * s["area"] / num_pixels:6.2f}%' for s in order
    ]


def main(argv: Optional[List[str]] = None) -> None:
    args = parse_args(argv)
    try:
        # cheap checks first: no model is built for a bad input
        img = load_image(args.image)
        if not osp.isfile(args.config):
            raise FileNotFoundError(f'config not found: {args.config}')
        for texts in (args.texts, args.stuff_texts):
            if texts is not None:
                OVSegInferencer.parse_texts(texts)
        if args.text_model_config:
            import open_clip
            open_clip.add_model_config(args.text_model_config)
        inferencer = OVPanopticInferencer(
            args.config,
            args.checkpoint,
            device=args.device,
            show_progress=False,
            text_model=args.text_model,
            text_pretrained=args.text_pretrained,
            cfg_options=args.cfg_options)
        if args.texts is not None or args.stuff_texts is not None:
            inferencer.set_texts(args.texts, args.stuff_texts)
    except (FileNotFoundError, ValueError, TypeError) as e:
        raise SystemExit(f'error: {e}')
    if not args.checkpoint:
        print(
            'warning: no --checkpoint, the mask generator is random',
            file=sys.stderr)
    out = inferencer(
        args.image,
        out_dir=args.out_dir,
        no_save_pred=False,
        pred_score_thr=args.score_thr)
    meta = inferencer.model.dataset_meta
    segments = out['predictions'][0].get('segments_info')
    print(f'vocabulary: {len(meta["classes"])} classes '
          f'({len(meta["thing_classes"])} things, '
          f'{len(meta["stuff_classes"])} stuff)')
    if segments is None:
        print('no panoptic output (test_cfg.panoptic_on is False)')
    else:
        lines = segment_lines(segments, img.shape[0] * img.shape[1],
                              args.top_k)
        print(f'{len(segments)} segments' +
              (f', the largest {len(lines)}:' if len(segments) >
               len(lines) else ':'))
        for line in lines:
            print(line)
    drawn = osp.join(args.out_dir, 'vis', osp.basename(args.image))
    print(f'saved {drawn}')


if __name__ == '__main__':
    main()
