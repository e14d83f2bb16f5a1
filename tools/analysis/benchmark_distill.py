# Copyright (c) mmclipself contributors. All rights reserved.
"""Speed and memory of one CLIPSelf training step, with synthetic inputs.

Builds the config's model with random weights (nothing is downloaded),
feeds batches of random images with a grid of regions (or, with
``--proposals``, random proposals) each, and prints images/s, peak device
memory, the achieved TFLOP/s (FLOPs of one step counted by
``torch.utils.flop_counter``: student forward + backward and teacher
forward) and the share of a step spent cutting the teacher crops
(``CLIPSelfDataPreprocessor.teacher_crops``, timed alone; choose the route
with ``--cfg-options model.data_preprocessor.crop_mode=roi_align``).

Examples:
    python tools/analysis/benchmark_distill.py \\
        configs/clipself/eva_vitb16_coco.py --batch-size 2 --amp-dtype bf16
    python tools/analysis/benchmark_distill.py \\
        configs/clipself/eva_vitl14_coco.py --batch-size 8 --with-cp
"""
import argparse
import time
from typing import Callable

import numpy as np
import torch
from mmengine.config import Config, DictAction
from mmengine.optim import build_optim_wrapper
from mmengine.registry import init_default_scope
from torch.utils.flop_counter import FlopCounterMode

import mmclipself  # noqa: F401
from mmclipself.datasets.transforms import (PackRegionInputs, ProposalRegions,
                                            RandomGridRegions)
from mmclipself.models.data_preprocessors import CLIPSelfDataPreprocessor
from mmclipself.registry import MODELS


def parse_args() -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument('config')
    p.add_argument('--batch-size', type=int, default=2)
    p.add_argument(
        '--regions',
        type=int,
        default=16,
        help='regions per image (a square grid: 16 -> 4x4)')
    p.add_argument(
        '--proposals',
        action='store_true',
        help='--regions random proposals per image (teacher crops 1.5x, '
        'all of different sizes) instead of a grid')
    p.add_argument(
        '--image-size',
        type=int,
        nargs=2,
        default=(480, 640),
        metavar=('H', 'W'),
        help='original image size')
    p.add_argument(
        '--amp-dtype', choices=['fp32', 'fp16', 'bf16'], default='bf16')
    p.add_argument(
        '--with-cp',
        action='store_true',
        help='activation checkpointing of the student blocks')
    p.add_argument('--warmup', type=int, default=3)
    p.add_argument('--iters', type=int, default=10)
    p.add_argument(
        '--device', default='cuda' if torch.cuda.is_available() else 'cpu')
    p.add_argument('--cfg-options', nargs='+', action=DictAction)
    return p.parse_args()


def synthetic_batch(batch_size: int,
                    regions: int,
                    size,
                    proposals: bool = False) -> dict:
    side = int(round(regions**0.5))
    if side * side != regions and not proposals:
        raise ValueError(f'--regions must be a square number, got {regions}')
    rng = np.random.RandomState(0)
    packed = []
    for _ in range(batch_size):
        img = rng.randint(0, 256, (*size, 3), dtype=np.uint8)
        if proposals:
            h, w = size
            xy = rng.uniform(0, [w / 2, h / 2], (regions, 2))
            wh = rng.uniform(8, [w / 2, h / 2], (regions, 2))
            res = ProposalRegions(max_regions=regions)(
                dict(
                    img=img,
                    img_shape=(h, w),
                    proposals=np.concatenate([xy, xy + wh], 1)))
        else:
            res = RandomGridRegions(split=(side, side))(dict(img=img))
        packed.append(PackRegionInputs()(res))
    return dict(
        inputs=[p['inputs'] for p in packed],
        data_samples=[p['data_samples'] for p in packed])


def crop_stage_time(preprocessor: CLIPSelfDataPreprocessor, data: dict,
                    warmup: int, iters: int, sync: Callable[[],
                                                            None]) -> float:
    """Seconds per batch of the teacher-crop stage alone.

    Times ``teacher_crops`` as the data preprocessor runs it in a step:
    images already on the device, crop boxes as host tensors.
    """
    images = list(preprocessor.cast_data(data['inputs']))
    boxes = [s.crop_regions for s in data['data_samples']]
    with torch.no_grad():
        for _ in range(warmup):
            preprocessor.teacher_crops(images, boxes)
        sync()
        start = time.perf_counter()
        for _ in range(iters):
            preprocessor.teacher_crops(images, boxes)
        sync()
    return (time.perf_counter() - start) / iters


def main() -> None:
    args = parse_args()
    cfg = Config.fromfile(args.config)
    if args.cfg_options:
        cfg.merge_from_dict(args.cfg_options)
    init_default_scope(cfg.get('default_scope', 'mmclipself'))
    cfg.model.student.pretrained = None  # random weights: no download
    if args.with_cp:
        cfg.model.student.with_cp = True
    model = MODELS.build(cfg.model)
    model.to(args.device).train()
    on_cuda = args.device.startswith('cuda')
    optim_cfg = dict(
        type='OptimWrapper', optimizer=dict(cfg.optim_wrapper.optimizer))
    if args.amp_dtype != 'fp32':
        if not on_cuda:
            raise SystemExit('--amp-dtype fp16/bf16 needs a CUDA device; '
                             'use --amp-dtype fp32 on CPU')
        optim_cfg.update(
            type='AmpOptimWrapper',
            dtype='bfloat16' if args.amp_dtype == 'bf16' else 'float16')
    optim = build_optim_wrapper(model, optim_cfg)
    data = synthetic_batch(args.batch_size, args.regions, args.image_size,
                           args.proposals)

    def sync():
        if on_cuda:
            torch.cuda.synchronize()

    for _ in range(args.warmup):
        model.train_step(data, optim)
    with FlopCounterMode(display=False) as counter:
        model.train_step(data, optim)
    flops = counter.get_total_flops()
    if on_cuda:
        torch.cuda.reset_peak_memory_stats()
    sync()
    start = time.perf_counter()
    for _ in range(args.iters):
        model.train_step(data, optim)
    sync()
    step = (time.perf_counter() - start) / args.iters
    crop = crop_stage_time(model.data_preprocessor, data, args.warmup,
                           args.iters, sync)
    pre = cfg.model.data_preprocessor
    print(f'config: {args.config}')
    print(f'device: {torch.cuda.get_device_name() if on_cuda else "cpu"}, '
          f'{args.amp_dtype}, batch {args.batch_size}, '
          f'{args.regions} {"proposals" if args.proposals else "regions"}'
          f'/image, student {pre.student_size}, '
          f'crops {pre.crop_size}, activation checkpointing '
          f'{"on" if args.with_cp else "off"}')
    print(f'step time: {step * 1e3:.1f} ms')
    print(f'teacher crops ({model.data_preprocessor.crop_mode}): '
          f'{crop * 1e3:.1f} ms, {100 * crop / step:.2f}% of a step')
    print(f'images/s: {args.batch_size / step:.2f}')
    if on_cuda:
        peak = torch.cuda.max_memory_allocated() / 2**30
        print(f'peak memory: {peak:.2f} GiB')
    print(f'FLOPs/step: {flops / 1e12:.4g} TFLOP; '
          f'achieved: {flops / step / 1e12:.2f} TFLOP/s')


if __name__ == '__main__':
    main()
