# Copyright (c) mmclipself contributors. All rights reserved.
"""Training and inference speed and memory of Cat-Seg, synthetic inputs.

Builds the config's segmentor at its full size with random weights (the
weights do not change the cost; nothing is downloaded: the towers' and the
guidance backbone's ``pretrained`` are dropped) and measures:

- **training**: ``model.train_step`` on batches of random images of the
  data preprocessor's crop size (384x384 in the release) with random label
  maps over the training vocabulary, through the config's optimiser
  wrapper (the release's AdamW + gradient clipping if the config has
  none), AMP through MMEngine's ``AmpOptimWrapper``; prints ms/step,
  images/s and the peak memory;
- **inference**: ``model.test_step`` (data preprocessor, the config's
  ``test_cfg`` inference: the release's 5 views for ``mode='catseg'``,
  MMSegmentation's post-processing) on random images of the test size
  (640x640) under ``torch.no_grad()`` and autocast, over the config's test
  vocabulary; prints ms/image, images/s and the peak memory.

Peak memory is ``torch.cuda.max_memory_allocated`` (reset before each timed
stage) on CUDA; on the CPU only the process's peak resident set size
(``ru_maxrss``) is measurable: a high-water mark of the whole process so
far (Python, libraries, both stages), not of one stage. Numbers are
printed, never checked.

Examples:
    # the issue's targets: B/16 training at 4 images per GPU, 5-view eval
    python tools/analysis/benchmark_catseg.py \\
        configs/catseg/catseg_openai-vitb16_cvpr_coco-stuff.py \\
        --batch-size 4 --amp-dtype bf16
    python tools/analysis/benchmark_catseg.py CONFIG --stage test \\
        --cfg-options model.test_vocabulary=ade847
"""
import argparse
import contextlib
from typing import List, Optional, Tuple

import torch
from mmengine.config import Config, DictAction
from mmengine.optim import build_optim_wrapper
from mmengine.registry import init_default_scope
from mmengine.structures import PixelData

import mmclipself  # noqa: F401
from mmclipself.apis.model_loading import quiet_init_weights
from mmclipself.models.segmentors import window_positions
from mmclipself.registry import MODELS
from mmclipself.utils.benchmark import (print_peak_memory, random_test_batch,
                                        timed)

AMP_DTYPES = dict(fp16=torch.float16, bf16=torch.bfloat16)
#: The release's optimiser (segmentation facts §2.3), for configs without
#: ``optim_wrapper``.
RELEASE_OPTIM = dict(
    type='OptimWrapper',
    optimizer=dict(type='AdamW', lr=2e-4, weight_decay=1e-4),
    clip_grad=dict(max_norm=0.01, norm_type=2))


def parse_args(argv: Optional[List[str]] = None) -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument('config')
    p.add_argument(
        '--stage', choices=['train', 'test', 'both'], default='both')
    p.add_argument(
        '--batch-size', type=int, default=4, help='training images per step')
    p.add_argument(
        '--test-batch-size',
        type=int,
        default=1,
        help='images per inference forward (the release: 1)')
    p.add_argument('--iters', type=int, default=20)
    p.add_argument('--warmup', type=int, default=5)
    p.add_argument(
        '--amp-dtype', choices=['fp32', 'fp16', 'bf16'], default='fp32')
    p.add_argument(
        '--with-cp',
        action='store_true',
        help='activation checkpointing of the trained CLIP blocks and the '
        'Cat-Seg aggregator/decoder')
    p.add_argument(
        '--tf32',
        action='store_true',
        help='torch.set_float32_matmul_precision("high"), as the release')
    p.add_argument(
        '--test-size',
        type=int,
        nargs=2,
        metavar=('H', 'W'),
        help='test image size (default: test_cfg.out_size, else 640 640)')
    p.add_argument(
        '--device', default='cuda' if torch.cuda.is_available() else 'cpu')
    p.add_argument('--cfg-options', nargs='+', action=DictAction)
    return p.parse_args(argv)


def random_weights(cfg: Config) -> None:
    """Drop every weight source of the model config (nothing is read)."""
    m = cfg.model
    for key in ('clip_tower', 'text_encoder', 'guidance_backbone'):
        part = m.get(key)
        if part is not None:
            if 'pretrained' in part:
                part.pretrained = None
            part.init_cfg = None


def _pair(value) -> Tuple[int, int]:
    if isinstance(value, int):
        return (value, value)
    return tuple(int(v) for v in value)


def train_batch(batch_size: int, size: Tuple[int, int],
                num_classes: int) -> dict:
    """Random ``uint8`` images and label maps (with an ignored block)."""
    from mmseg.structures import SegDataSample
    g = torch.Generator().manual_seed(0)
    inputs, samples = [], []
    for _ in range(batch_size):
        inputs.append(torch.randint(0, 256, (3, *size), generator=g).byte())
        label = torch.randint(0, num_classes, (1, *size), generator=g)
        label[:, :size[0] // 8, :size[1] // 8] = 255
        sample = SegDataSample(gt_sem_seg=PixelData(data=label))
        sample.set_metainfo(dict(img_shape=size, ori_shape=size))
        samples.append(sample)
    return dict(inputs=inputs, data_samples=samples)


def test_batch(batch_size: int, size: Tuple[int, int]) -> dict:
    """Random ``uint8`` images as the test pipeline packs them."""
    from mmseg.structures import SegDataSample
    return random_test_batch(batch_size, size, SegDataSample)


def main(argv: Optional[List[str]] = None) -> None:
    args = parse_args(argv)
    if min(args.iters, args.batch_size, args.test_batch_size) < 1 \
            or args.warmup < 0:
        raise SystemExit('--iters and the batch sizes must be positive and '
                         '--warmup non-negative')
    on_cuda = args.device.startswith('cuda')
    if args.amp_dtype != 'fp32' and not on_cuda:
        raise SystemExit('--amp-dtype fp16/bf16 needs a CUDA device; '
                         'use --amp-dtype fp32 on CPU')
    if args.tf32:
        torch.set_float32_matmul_precision('high')
    cfg = Config.fromfile(args.config)
    if args.cfg_options:
        cfg.merge_from_dict(args.cfg_options)
    init_default_scope(cfg.get('default_scope', 'mmseg'))
    random_weights(cfg)
    if args.with_cp:
        cfg.model.clip_tower.with_cp = True
        cfg.model.decode_head.with_cp = True
    model = MODELS.build(cfg.model)
    quiet_init_weights(model)
    model.to(args.device)

    def sync():
        if on_cuda:
            torch.cuda.synchronize()

    print(f'config: {args.config}')
    print(f'device: {torch.cuda.get_device_name() if on_cuda else "cpu"}, '
          f'{args.amp_dtype}{" (tf32 matmul)" if args.tf32 else ""}, '
          'random weights, activation checkpointing '
          f'{"on" if args.with_cp else "off"}')
    print(f'iterations: {args.iters} (after {args.warmup} warm-up)')

    if args.stage in ('train', 'both'):
        optim_cfg = dict(cfg.get('optim_wrapper') or RELEASE_OPTIM)
        # --amp-dtype decides, whatever wrapper the config names
        for key in ('dtype', 'loss_scale'):
            optim_cfg.pop(key, None)
        optim_cfg['type'] = 'OptimWrapper'
        if args.amp_dtype != 'fp32':
            optim_cfg.update(
                type='AmpOptimWrapper',
                dtype='bfloat16' if args.amp_dtype == 'bf16' else 'float16')
        optim = build_optim_wrapper(model, optim_cfg)
        crop = _pair(cfg.model.data_preprocessor.get('size') or 384)
        num_classes = len(model.train_class_names)
        data = train_batch(args.batch_size, crop, num_classes)
        model.train()
        step = timed(lambda: model.train_step(data, optim), args.warmup,
                     args.iters, sync, on_cuda)
        print(f'train: batch {args.batch_size}, {crop[0]}x{crop[1]} crops, '
              f'{num_classes} classes'
              f'{"" if "optim_wrapper" in cfg else ", release AdamW"}')
        print(f'train ms/step: {step * 1e3:.1f}')
        print(f'train images/s: {args.batch_size / step:.2f}')
        print_peak_memory('train', on_cuda)

    if args.stage in ('test', 'both'):
        test_cfg = model.test_cfg
        mode = test_cfg.get('mode', 'whole')
        size = tuple(args.test_size) if args.test_size else _pair(
            test_cfg.get('out_size', 640))
        if mode == 'catseg':
            crop = _pair(test_cfg.get('crop_size', 384))
            views = len(
                window_positions(size, crop,
                                 _pair(test_cfg.get('stride', 256))))
            protocol = f'catseg ({views} windows + 1 global view)'
        else:
            protocol = mode
        data = test_batch(args.test_batch_size, size)
        amp = torch.autocast(
            device_type='cuda', dtype=AMP_DTYPES[args.amp_dtype]
        ) if args.amp_dtype != 'fp32' else contextlib.nullcontext()
        model.eval()

        def predict():
            with amp:
                model.test_step(data)

        with torch.no_grad():
            per_batch = timed(predict, args.warmup, args.iters, sync, on_cuda)
        per_image = per_batch / args.test_batch_size
        print(f'test: mode {protocol}, batch {args.test_batch_size}, '
              f'{size[0]}x{size[1]}, {len(model.class_names)} classes')
        print(f'test ms/image: {per_image * 1e3:.2f}')
        print(f'test images/s: {1 / per_image:.2f}')
        print_peak_memory('test', on_cuda)


if __name__ == '__main__':
    main()
