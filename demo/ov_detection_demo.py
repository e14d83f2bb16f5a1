# Copyright (c) mmclipself contributors. All rights reserved.
"""Open-vocabulary detection on one image with F-ViT and any class names.

Examples:
    # free-text classes, encoded by the text tower of the detector's CLIP
    # (derived from the config's image tower: EVA02-B-16 here)
    python demo/ov_detection_demo.py photo.jpg \\
        configs/fvit/fvit_eva-vitb16_ov-coco.py \\
        --checkpoint fvit_eva-vitb16_coco.pth \\
        --classes "cat,coffee cup,person" --out-file result.jpg
    # a CLIPSelf-refined tower file holds no text tower: name the weights
    # of the CLIP it was refined from
    python demo/ov_detection_demo.py photo.jpg \\
        configs/fvit/fvit_eva-vitb16-clipself-patches_ov-coco.py \\
        --checkpoint CKPT --classes "cat,coffee cup" \\
        --text-pretrained open_clip://EVA02-B-16/merged2b_s8b_b131k
    # a vocabulary file of tools/generate_text_embeddings.py --background
    python demo/ov_detection_demo.py photo.jpg CONFIG --checkpoint CKPT \\
        --vocabulary data/text_embeddings/eva02-b16_lvis.pt

Runs :class:`~mmclipself.apis.OVDetInferencer` (MMDetection's
``DetInferencer``), which draws the boxes above ``--score-thr`` with
MMDetection's ``DetLocalVisualizer``; saves the image and prints the
detections.
"""
import argparse
import os
import os.path as osp
import sys
from typing import List, Optional

import mmcv
import torch
from mmengine.config import DictAction

from mmclipself.apis import OVDetInferencer, load_image, parse_class_names


def parse_args(argv: Optional[List[str]] = None) -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument('image', help='image file')
    p.add_argument('config', help='F-ViT config file')
    p.add_argument(
        '--checkpoint',
        help='detector checkpoint (without it the detector layers are '
        'random: only useful to try the pipeline)')
    vocab = p.add_mutually_exclusive_group()
    vocab.add_argument(
        '--classes',
        help='comma-separated class names, e.g. "cat,coffee cup,person"')
    vocab.add_argument(
        '--vocabulary',
        help='vocabulary file (tools/generate_text_embeddings.py '
        '--background); default: the config\'s')
    p.add_argument(
        '--text-model',
        help='open_clip model whose text tower encodes --classes; default: '
        'the CLIP of the config\'s image tower (e.g. EVA02-B-16 for '
        'eva02-b16, ViT-B-16-quickgelu for OpenAI vit-b16)')
    p.add_argument(
        '--text-pretrained',
        help='its weights, a file or open_clip://MODEL/TAG; default: the '
        'image tower\'s pretrained source if it holds a text tower (an '
        'open_clip tag or a full CLIP file; a CLIPSelf-refined tower does '
        'not: then pass the weights of the CLIP it comes from)')
    p.add_argument(
        '--text-model-config',
        help='open_clip model config JSON of a custom --text-model '
        '(registered under its file name)')
    p.add_argument(
        '--score-thr',
        type=float,
        default=0.3,
        help='draw and print boxes above this score')
    p.add_argument(
        '--top-k', type=int, default=20, help='print at most this many')
    p.add_argument(
        '--out-file',
        default='ov_detection_result.jpg',
        help='where to save the drawn image')
    p.add_argument(
        '--device', default='cuda:0' if torch.cuda.is_available() else 'cpu')
    p.add_argument(
        '--cfg-options',
        nargs='+',
        action=DictAction,
        help='override config settings, e.g. model.test_cfg.rcnn.'
        'max_per_img=50')
    return p.parse_args(argv)


def format_detections(result, classes, score_thr: float,
                      top_k: int) -> List[str]:
    """One line per detection above ``score_thr``, best first."""
    pred = result.pred_instances
    order = pred.scores.argsort(descending=True)
    lines = []
    for i in order[:top_k].tolist():
        score = float(pred.scores[i])
        if score < score_thr:
            break
        box = ', '.join(f'{v:.1f}' for v in pred.bboxes[i].tolist())
        lines.append(f'{classes[int(pred.labels[i])]:<24} {score:.3f}  '
                     f'[{box}]')
    return lines


def main(argv: Optional[List[str]] = None) -> None:
    args = parse_args(argv)
    try:
        # cheap checks first: no model is built for a bad input
        load_image(args.image)
        if not osp.isfile(args.config):
            raise FileNotFoundError(f'config not found: {args.config}')
        if args.checkpoint and not osp.isfile(args.checkpoint) \
                and '://' not in args.checkpoint:
            raise FileNotFoundError(f'checkpoint not found: {args.checkpoint}')
        vocabulary = args.vocabulary
        if args.classes is not None:
            vocabulary = parse_class_names(args.classes)
            if args.text_model_config:
                import open_clip
                open_clip.add_model_config(args.text_model_config)
        inferencer = OVDetInferencer(
            args.config,
            args.checkpoint,
            device=args.device,
            vocabulary=vocabulary,
            text_model=args.text_model,
            text_pretrained=args.text_pretrained,
            cfg_options=args.cfg_options)
    except (FileNotFoundError, ValueError) as e:
        raise SystemExit(f'error: {e}')
    if not args.checkpoint:
        print(
            'warning: no --checkpoint, the detector layers are random',
            file=sys.stderr)
    out = inferencer(
        args.image,
        return_datasamples=True,
        return_vis=True,
        pred_score_thr=args.score_thr)
    result, drawn = out['predictions'][0], out['visualization'][0]
    os.makedirs(osp.dirname(osp.abspath(args.out_file)), exist_ok=True)
    mmcv.imwrite(drawn[..., ::-1], args.out_file)  # drawn is RGB
    classes = inferencer.model.dataset_meta['classes']
    lines = format_detections(result, classes, args.score_thr, args.top_k)
    above = int((result.pred_instances.scores >= args.score_thr).sum())
    print(f'vocabulary: {len(classes)} classes; {above} detections with '
          f'score >= {args.score_thr}' +
          (f', the top {len(lines)}:' if above > len(lines) else ':'))
    for line in lines:
        print(line)
    print(f'saved {args.out_file}')


if __name__ == '__main__':
    main()
