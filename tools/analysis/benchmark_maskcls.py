# Copyright (c) mmclipself contributors. All rights reserved.
"""Training and inference speed and memory of CLIP mask classification.

Builds the config's ``OVMask2Former`` at its full size with random weights
(the weights do not change the cost; nothing is downloaded: the CLIP
tower's ``pretrained`` and the ResNet's ``init_cfg`` are dropped; missing
vocabulary files are replaced by random ones of the tower's width, with a
warning) and measures:

- **training**: ``model.train_step`` on batches of random images at the LSJ
  crop size (the config's ``BatchFixedSizePad``, 1024x1024 for R50) with
  16 panoptic segments per image (8 thing instances, 8 stuff regions)
  over the training vocabulary, through the config's optimiser wrapper
  (MMDetection's Mask2Former recipe, AdamW 1e-4, wd 0.05, backbone lr
  x0.1, clip 0.01, if the config has none; facts §4), AMP through
  MMEngine's ``AmpOptimWrapper``; prints ms/step, images/s and the peak
  memory;
- **inference**: ``model.test_step`` (data preprocessor, mask generator,
  the config's ``clip_mode`` CLIP mask classification and ``test_cfg``
  post-processing: panoptic / instance / semantic as switched on) on
  random images of an ADE20K-like size (short side of the config's test
  ``Resize``, 640 for the ADE configs, at ADE's common 4:3 aspect: 640x853)
  under ``torch.no_grad()`` and autocast; prints ms/image, images/s and the
  peak memory.

Peak memory is ``torch.cuda.max_memory_allocated`` (reset before each timed
stage) on CUDA; on the CPU only the process's peak resident set size
(``ru_maxrss``) is measurable: a high-water mark of the whole process so
far (Python, libraries, both stages), not of one stage. Numbers are
printed, never checked. The issue's target (not measured here): R50 +
ViT-L/14-336 inference >= 8 images/s on one H100 at short side 640.

Examples:
    python tools/analysis/benchmark_maskcls.py CONFIG --amp-dtype bf16
    python tools/analysis/benchmark_maskcls.py CONFIG --stage test \\
        --cfg-options model.clip_mode=clip_only
"""
import argparse
import contextlib
import logging
import os.path as osp
import tempfile
import warnings
from typing import List, Optional, Tuple

import torch
from mmengine.config import Config, ConfigDict, DictAction
from mmengine.logging import MMLogger
from mmengine.optim import build_optim_wrapper
from mmengine.registry import init_default_scope

import mmclipself  # noqa: F401
from mmclipself.apis.model_loading import quiet_init_weights
from mmclipself.registry import MODELS
from mmclipself.utils.benchmark import (print_peak_memory, random_test_batch,
                                        random_vocabulary, timed)

AMP_DTYPES = dict(fp16=torch.float16, bf16=torch.bfloat16)
#: MMDetection's Mask2Former optimiser (segmentation facts §4), for configs
#: without ``optim_wrapper``.
MASK2FORMER_OPTIM = dict(
    type='OptimWrapper',
    optimizer=dict(
        type='AdamW', lr=1e-4, weight_decay=0.05, eps=1e-8,
        betas=(0.9, 0.999)),
    paramwise_cfg=dict(
        custom_keys=dict(
            backbone=dict(lr_mult=0.1, decay_mult=1.0),
            query_embed=dict(lr_mult=1.0, decay_mult=0.0),
            query_feat=dict(lr_mult=1.0, decay_mult=0.0),
            level_embed=dict(lr_mult=1.0, decay_mult=0.0)),
        norm_decay_mult=0.0),
    clip_grad=dict(max_norm=0.01, norm_type=2))
#: ADE20K's common aspect (4:3) for the test images.
TEST_ASPECT = 4 / 3
#: Panoptic segments per training image: a 4 x 4 grid, things and stuff.
GRID = 4


def parse_args(argv: Optional[List[str]] = None) -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument('config')
    p.add_argument(
        '--stage', choices=['train', 'test', 'both'], default='both')
    p.add_argument(
        '--batch-size',
        type=int,
        default=2,
        help='training images per step (Mask2Former: 2 per GPU)')
    p.add_argument(
        '--test-batch-size', type=int, default=1, help='images per forward')
    p.add_argument('--iters', type=int, default=20)
    p.add_argument('--warmup', type=int, default=5)
    p.add_argument(
        '--amp-dtype', choices=['fp32', 'fp16', 'bf16'], default='fp32')
    p.add_argument(
        '--train-size',
        type=int,
        help='side of the square training crops (default: the config\'s '
        'BatchFixedSizePad, else 1024)')
    p.add_argument(
        '--test-size',
        type=int,
        nargs=2,
        metavar=('H', 'W'),
        help='test image size (default: the test Resize\'s short side, '
        '640 for ADE20K, at 4:3)')
    p.add_argument(
        '--num-classes',
        type=int,
        default=150,
        help='classes of a random test vocabulary (when the config\'s '
        'file is missing; default 150: ADE20K panoptic)')
    p.add_argument(
        '--device', default='cuda' if torch.cuda.is_available() else 'cpu')
    p.add_argument('--cfg-options', nargs='+', action=DictAction)
    return p.parse_args(argv)


def _tower_cfg(model: ConfigDict) -> ConfigDict:
    """The config of the CLIP tower whose dense map classifies masks."""
    if model.get('clip_tower') is not None:
        return model.clip_tower
    return model.backbone.clip


def random_weights(cfg: Config) -> None:
    """Drop every weight source of the model config (nothing is read)."""
    m = cfg.model
    _tower_cfg(m).pretrained = None
    m.backbone.init_cfg = None
    if 'clip' in m.backbone:
        m.backbone.clip.init_cfg = None


def ensure_vocabularies(cfg: Config, num_test_classes: int,
                        tmp_dir: str) -> None:
    """Replace missing vocabulary files by random ones (with a warning).

    The class counts are the config's (``num_things_classes`` +
    ``num_stuff_classes`` for training, ``num_test_classes`` for the test
    vocabulary); the width is the CLIP tower's embedding width.
    """
    head = cfg.model.panoptic_head
    missing = [
        key for key in ('vocabulary', 'test_vocabulary')
        if isinstance(head.get(key), str) and not osp.isfile(head[key])
    ]
    if not missing:
        return
    tower = MODELS.build(dict(_tower_cfg(cfg.model), pretrained=None))
    dim = tower.output_dim
    del tower
    for key in missing:
        if key == 'vocabulary':
            things = head.get('num_things_classes', 80)
            stuff = head.get('num_stuff_classes')
            num = things + (stuff if stuff is not None else 0)
        else:
            num = num_test_classes
        path = random_vocabulary(
            osp.join(tmp_dir, f'{key}.pt'), max(num, 1), dim)
        warnings.warn(f'panoptic_head.{key} {head[key]} not found: random '
                      f'{num} x {dim} text embeddings')
        head[key] = path


def _batch_pad_size(cfg: Config) -> Optional[int]:
    for t in cfg.model.data_preprocessor.get('batch_augments') or []:
        if str(t['type']).split('.')[-1] == 'BatchFixedSizePad':
            size = t['size']
            return int(size[0] if isinstance(size, (list, tuple)) else size)
    return None


def test_short_side(cfg: Config) -> int:
    """The short side of the config's test ``Resize`` (640 for ADE)."""
    loader = cfg.get('test_dataloader')
    if loader is not None:
        dataset = loader.dataset
        while 'pipeline' not in dataset and 'dataset' in dataset:
            dataset = dataset.dataset
        for t in dataset.get('pipeline', []):
            if str(t['type']).split('.')[-1] == 'Resize' and 'scale' in t:
                scale = t['scale']
                return int(
                    min(scale) if isinstance(scale, (list, tuple)) else scale)
    return 640


def train_batch(batch_size: int, size: int, num_things: int,
                num_classes: int) -> dict:
    """Random ``uint8`` images with a grid of panoptic segments.

    Per image a ``GRID x GRID`` grid of cells alternates thing instances
    (labels cycling over the thing classes) and stuff regions (over the
    stuff classes; things when there are none), with ``gt_sem_seg`` as
    MMDetection's panoptic loader writes it.
    """
    from mmdet.structures import DetDataSample
    from mmdet.structures.mask import BitmapMasks
    from mmengine.structures import InstanceData, PixelData
    g = torch.Generator().manual_seed(0)
    cell = size // GRID
    num_stuff = num_classes - num_things
    inputs, samples = [], []
    for _ in range(batch_size):
        inputs.append(
            torch.randint(0, 256, (3, size, size), generator=g).byte())
        sem = torch.full((1, size, size), 255, dtype=torch.long)
        masks, labels, boxes = [], [], []
        for i in range(GRID * GRID):
            y, x = divmod(i, GRID)
            ys, xs = slice(y * cell,
                           (y + 1) * cell), slice(x * cell, (x + 1) * cell)
            if i % 2 == 0 or num_stuff == 0:
                label = (i // 2) % max(num_things, 1)
                mask = torch.zeros(size, size, dtype=torch.uint8)
                mask[ys, xs] = 1
                masks.append(mask)
                labels.append(label)
                boxes.append(
                    [x * cell, y * cell, (x + 1) * cell, (y + 1) * cell])
            else:
                label = num_things + (i // 2) % num_stuff
            sem[0, ys, xs] = label
        sample = DetDataSample(
            metainfo=dict(
                img_shape=(size, size),
                ori_shape=(size, size),
                pad_shape=(size, size),
                batch_input_shape=(size, size),
                scale_factor=(1., 1.)))
        sample.gt_instances = InstanceData(
            labels=torch.tensor(labels),
            masks=BitmapMasks(torch.stack(masks).numpy(), size, size),
            bboxes=torch.tensor(boxes, dtype=torch.float32))
        sample.gt_sem_seg = PixelData(sem_seg=sem)
        samples.append(sample)
    return dict(inputs=inputs, data_samples=samples)


def test_batch(batch_size: int, size: Tuple[int, int]) -> dict:
    """Random ``uint8`` images as the test pipeline packs them."""
    from mmdet.structures import DetDataSample
    return random_test_batch(batch_size, size, DetDataSample)


def _outputs(test_cfg) -> str:
    on = [
        name
        for name, key, default in (('panoptic', 'panoptic_on',
                                    True), ('instance', 'instance_on', False),
                                   ('semantic', 'semantic_on', False))
        if test_cfg.get(key, default)
    ]
    return ', '.join(on) or 'none'


def main(argv: Optional[List[str]] = None) -> None:
    args = parse_args(argv)
    if min(args.iters, args.batch_size, args.test_batch_size,
           args.num_classes) < 1 or args.warmup < 0:
        raise SystemExit('--iters, --num-classes and the batch sizes must be '
                         'positive and --warmup non-negative')
    on_cuda = args.device.startswith('cuda')
    if args.amp_dtype != 'fp32' and not on_cuda:
        raise SystemExit('--amp-dtype fp16/bf16 needs a CUDA device; '
                         'use --amp-dtype fp32 on CPU')
    if not osp.isfile(args.config):
        raise SystemExit(f'config not found: {args.config}')
    cfg = Config.fromfile(args.config)
    if args.cfg_options:
        cfg.merge_from_dict(args.cfg_options)
    init_default_scope(cfg.get('default_scope', 'mmdet'))
    random_weights(cfg)
    tmp = tempfile.TemporaryDirectory()
    ensure_vocabularies(cfg, args.num_classes, tmp.name)
    model = MODELS.build(cfg.model)
    if not hasattr(model, 'clip_mode'):
        raise SystemExit('not a mask-classification config: the model is '
                         f'{type(model).__name__}, not mmclipself.'
                         'OVMask2Former')
    quiet_init_weights(model)
    model.to(args.device)

    def sync():
        if on_cuda:
            torch.cuda.synchronize()

    tower = model.dense_tower
    print(f'config: {args.config}')
    print(f'device: {torch.cuda.get_device_name() if on_cuda else "cpu"}, '
          f'{args.amp_dtype}, random weights')
    print(f'model: {type(model.backbone).__name__} mask generator, '
          f'{type(tower).__name__} CLIP tower '
          f'({"backbone" if model.clip_tower is None else "separate"}), '
          f'{model.panoptic_head.num_queries} queries')
    print(f'iterations: {args.iters} (after {args.warmup} warm-up)')

    if args.stage in ('train', 'both'):
        optim_cfg = dict(cfg.get('optim_wrapper') or MASK2FORMER_OPTIM)
        # --amp-dtype decides, whatever wrapper the config names
        for key in ('dtype', 'loss_scale'):
            optim_cfg.pop(key, None)
        optim_cfg['type'] = 'OptimWrapper'
        if args.amp_dtype != 'fp32':
            optim_cfg.update(
                type='AmpOptimWrapper',
                dtype='bfloat16' if args.amp_dtype == 'bf16' else 'float16')
        logger = MMLogger.get_current_instance()
        level = logger.level
        logger.setLevel(logging.ERROR)  # one line per parameter otherwise
        try:
            optim = build_optim_wrapper(model, optim_cfg)
        finally:
            logger.setLevel(level)
        size = args.train_size or _batch_pad_size(cfg) or 1024
        head = model.panoptic_head
        num_classes = len(model.train_class_names)
        data = train_batch(args.batch_size, size, head.num_things_classes,
                           num_classes)
        model.train()
        step = timed(lambda: model.train_step(data, optim), args.warmup,
                     args.iters, sync, on_cuda)
        print(f'train: batch {args.batch_size}, {size}x{size} crops, '
              f'{num_classes} classes, {GRID * GRID} segments per image'
              f'{"" if "optim_wrapper" in cfg else ", Mask2Former AdamW"}')
        print(f'train ms/step: {step * 1e3:.1f}')
        print(f'train images/s: {args.batch_size / step:.2f}')
        print_peak_memory('train', on_cuda)

    if args.stage in ('test', 'both'):
        if args.test_size:
            size = tuple(args.test_size)
        else:
            short = test_short_side(cfg)
            size = (short, round(short * TEST_ASPECT))
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
        print(f'test: clip_mode {model.clip_mode}, batch '
              f'{args.test_batch_size}, {size[0]}x{size[1]}, '
              f'{len(model.class_names)} classes, outputs '
              f'{_outputs(model.test_cfg)}')
        print(f'test ms/image: {per_image * 1e3:.2f}')
        print(f'test images/s: {1 / per_image:.2f}')
        print_peak_memory('test', on_cuda)
    tmp.cleanup()


if __name__ == '__main__':
    main()
