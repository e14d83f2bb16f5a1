# Copyright (c) mmclipself contributors. All rights reserved.
"""Class-name embeddings from the same CLIP's text tower (never committed).

Examples:
    # OV-COCO vocabulary with a background entry, EVA02-CLIP B/16 text tower
    python tools/generate_text_embeddings.py --dataset coco65 --background \\
        --model EVA02-B-16 --pretrained EVA02_CLIP_B_psz16_s8B.pt \\
        --out data/embeddings/coco65_eva02-b16.pt
    # any vocabulary: one class per line ("building, edifice": synonyms)
    python tools/generate_text_embeddings.py --classes my_classes.txt \\
        --model ViT-B-16-quickgelu \\
        --pretrained open_clip://ViT-B-16-quickgelu/openai --out mine.pt

The file (see :mod:`mmclipself.vocab.file_format`) holds ``class_names``
(the background entry last if asked), ``embeddings`` (C x D, prompt
ensemble, L2-normalised), ``per_template`` (C x P x D) and how they were
made: model, weights, templates, name clean-up rule.
"""
import argparse

import torch

from mmclipself.models.text import build_text_model
from mmclipself.vocab import (BACKGROUND, CLEAN_RULES, TEMPLATES, default_rule,
                              embed_class_names, get_class_names,
                              list_vocabularies, read_class_file,
                              save_vocabulary)


def parse_args() -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    src = p.add_mutually_exclusive_group(required=True)
    src.add_argument(
        '--dataset',
        choices=list_vocabularies(),
        help='a known benchmark vocabulary')
    src.add_argument(
        '--classes',
        help='text file, one class per line (comma-separated synonyms)')
    p.add_argument(
        '--model', required=True, help='open_clip model name, e.g. EVA02-B-16')
    p.add_argument(
        '--model-config',
        help='open_clip model config JSON for a custom model '
        '(registered under its file name)')
    p.add_argument(
        '--pretrained',
        required=True,
        help='weights file or open_clip://MODEL/TAG')
    p.add_argument('--out', required=True, help='output .pt file')
    p.add_argument(
        '--templates',
        choices=sorted(TEMPLATES),
        default='vild',
        help='prompt ensemble (vild: the 63 ViLD prompts)')
    p.add_argument(
        '--rule',
        choices=sorted(CLEAN_RULES),
        help='class-name clean-up (default: panoptic for --dataset '
        'coco_panoptic, else release: "_" -> space, "/" -> " or ", lower '
        'case)')
    p.add_argument(
        '--no-this-is',
        action='store_true',
        help='do not prefix prompts with "This is"')
    p.add_argument(
        '--background',
        action='store_true',
        help='append a "background" entry (F-ViT classifier)')
    p.add_argument(
        '--no-per-template',
        action='store_true',
        help='store only the prompt-ensembled embeddings (smaller file)')
    p.add_argument('--batch-size', type=int, default=8)
    p.add_argument(
        '--device', default='cuda' if torch.cuda.is_available() else 'cpu')
    p.add_argument('--cache-dir', help='open_clip download cache')
    return p.parse_args()


def main() -> None:
    args = parse_args()
    if args.dataset:
        names = list(get_class_names(args.dataset))
    else:
        try:
            names = read_class_file(args.classes)
        except (OSError, ValueError) as e:  # one line, no traceback
            raise SystemExit(f'error: {e}') from None
    if args.background:
        names.append(BACKGROUND)
    rule = args.rule or default_rule(args.dataset)
    import open_clip
    if args.model_config:
        open_clip.add_model_config(args.model_config)
    model = build_text_model(args.model, args.pretrained, args.cache_dir)
    print(f'encoding {len(names)} classes x {len(TEMPLATES[args.templates])}'
          f' prompts with the {args.model} text tower on {args.device} '
          f'(name clean-up: {rule})')
    vocab = embed_class_names(
        model,
        names,
        templates=args.templates,
        rule=rule,
        this_is=not args.no_this_is,
        batch_size=args.batch_size,
        device=args.device)
    save_vocabulary(vocab, args.out, per_template=not args.no_per_template)
    print(f'wrote {tuple(vocab.embeddings.shape)} embeddings to {args.out}')


if __name__ == '__main__':
    main()
