# Copyright (c) mmclipself contributors. All rights reserved.
"""Open-vocabulary detection on one image with F-ViT and any class names.

Examples:
    # free-text classes, encoded with the text tower of the detector's CLIP
    python demo/ov_detection_demo.py photo.jpg \\
        configs/fvit/fvit_eva-vitb16-clipself-patches_ov-coco.py \\
        --checkpoint fvit_eva-vitb16_coco.pth \\
        --classes "cat,coffee cup,person" --out-file result.jpg
    # a vocabulary file of tools/generate_text_embeddings.py --background
    python demo/ov_detection_demo.py photo.jpg CONFIG --checkpoint CKPT \\
        --vocabulary data/text_embeddings/eva02-b16_lvis.pt

Draws the boxes above ``--score-thr`` with MMDetection's
``DetLocalVisualizer``, saves the image and prints the detections.
"""
import argparse
import copy
import os.path as osp
import sys
from typing import List, Optional

import torch
from mmengine.config import DictAction

from mmclipself.apis import (inference_ov_detector, init_ov_detector,
                             load_image, parse_class_names)


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
        default='EVA02-B-16',
        help='open_clip model whose text tower encodes --classes: the CLIP '
        'of the detector (EVA02-L-14-336 for EVA L/14 configs, '
        'ViT-B-16-quickgelu / ViT-L-14-336-quickgelu for OpenAI ones)')
    p.add_argument(
        '--text-pretrained',
        default='open_clip://EVA02-B-16/merged2b_s8b_b131k',
        help='its weights: a file or open_clip://MODEL/TAG')
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


def build_visualizer(cfg, dataset_meta: dict):
    """The config's ``DetLocalVisualizer`` (or a default one), no backends."""
    from mmdet.registry import VISUALIZERS
    from mmdet.visualization import DetLocalVisualizer
    vis_cfg = copy.deepcopy(cfg.get('visualizer') or {})
    vis_type = str(vis_cfg.get('type', ''))
    if not vis_type.endswith('DetLocalVisualizer'):
        vis_cfg = dict(type='DetLocalVisualizer')
    vis_cfg.setdefault('_scope_', 'mmdet')
    vis_cfg.pop('vis_backends', None)  # only the out file is written
    vis_cfg.pop('save_dir', None)
    vis_cfg['name'] = 'ov_detection_demo'
    visualizer = VISUALIZERS.build(vis_cfg)
    if not isinstance(visualizer, DetLocalVisualizer):
        raise TypeError(f'{vis_type} is not a DetLocalVisualizer')
    visualizer.dataset_meta = dataset_meta
    return visualizer


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
        img = load_image(args.image)
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
        model = init_ov_detector(
            args.config,
            args.checkpoint,
            vocabulary=vocabulary,
            device=args.device,
            cfg_options=args.cfg_options,
            text_model=args.text_model,
            text_pretrained=args.text_pretrained)
    except (FileNotFoundError, ValueError) as e:
        raise SystemExit(f'error: {e}')
    if not args.checkpoint:
        print(
            'warning: no --checkpoint, the detector layers are random',
            file=sys.stderr)
    result = inference_ov_detector(model, img)
    classes = model.dataset_meta['classes']
    visualizer = build_visualizer(model.cfg, model.dataset_meta)
    visualizer.add_datasample(
        osp.basename(args.image),
        img[..., ::-1],  # the visualiser draws on RGB
        data_sample=result,
        draw_gt=False,
        show=False,
        pred_score_thr=args.score_thr,
        out_file=args.out_file)
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
