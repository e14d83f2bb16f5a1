# Copyright (c) mmclipself contributors. All rights reserved.
"""Inference speed and memory of an F-ViT detector, with synthetic images.

Builds the config's detector (random weights unless ``--checkpoint``: the
weights do not change the network's cost; nothing is downloaded), feeds
batches of random square images of the config's input size through
``model.data_preprocessor`` and ``model(..., mode='predict')`` under
``torch.inference_mode()`` and autocast, and prints images/s, ms/image and
the peak GPU memory. If the vocabulary file is missing, a random one of the
config's width and class count is used (with a warning).

The post-processing (multi-class NMS) depends on the scores, so a random
detector, which scores every class alike, may spend more time there than a
trained one.

Examples:
    python tools/analysis/benchmark_fvit.py \\
        configs/fvit/fvit_eva-vitb16_ov-coco.py --amp-dtype fp16
    python tools/analysis/benchmark_fvit.py \\
        configs/fvit/fvit_eva-vitl14_ov-lvis.py --batch-size 2 \\
        --amp-dtype bf16 --num-iters 20
"""
import argparse
import contextlib
import os.path as osp
import tempfile
import time
from typing import List, Optional

import torch
from mmengine.config import Config, DictAction
from mmengine.registry import init_default_scope

import mmclipself  # noqa: F401
from mmclipself.apis import init_ov_detector
from mmclipself.utils.benchmark import random_vocabulary

AMP_DTYPES = dict(fp16=torch.float16, bf16=torch.bfloat16)


def parse_args(argv: Optional[List[str]] = None) -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument('config')
    p.add_argument(
        '--checkpoint', help='detector checkpoint (default: random weights)')
    p.add_argument('--batch-size', type=int, default=1)
    p.add_argument('--num-iters', type=int, default=50)
    p.add_argument('--warmup', type=int, default=5)
    p.add_argument(
        '--amp-dtype', choices=['fp32', 'fp16', 'bf16'], default='fp32')
    p.add_argument(
        '--image-size',
        type=int,
        help='side of the square input images (default: the config\'s '
        'input size)')
    p.add_argument(
        '--vocabulary',
        help='vocabulary file (default: the config\'s); random if missing')
    p.add_argument(
        '--num-classes',
        type=int,
        help='classes of a random vocabulary (default: the test dataset\'s)')
    p.add_argument(
        '--device', default='cuda' if torch.cuda.is_available() else 'cpu')
    p.add_argument('--cfg-options', nargs='+', action=DictAction)
    return p.parse_args(argv)


def config_image_size(cfg: Config) -> int:
    """The input side: the test ``Resize`` scale, else the padding size."""
    loader = cfg.get('test_dataloader')
    if loader is not None:
        dataset = loader.dataset
        while 'pipeline' not in dataset and 'dataset' in dataset:
            dataset = dataset.dataset
        for t in dataset.get('pipeline', []):
            if str(t['type']).split('.')[-1] == 'Resize' and 'scale' in t:
                scale = t['scale']
                return int(
                    max(scale) if isinstance(scale, (list, tuple)) else scale)
    return int(cfg.model.data_preprocessor.get('pad_size_divisor', 1024))


def dataset_num_classes(cfg: Config) -> Optional[int]:
    """Classes of the config's test dataset type (``METAINFO``), if known."""
    from mmdet.registry import DATASETS
    try:
        dataset = cfg.test_dataloader.dataset
        while 'type' not in dataset and 'dataset' in dataset:
            dataset = dataset.dataset
        dataset_cls = DATASETS.get(dataset.type)
        return len(dataset_cls.METAINFO['classes']) or None
    except Exception:  # noqa: BLE001 - any config layout: just unknown
        return None


def synthetic_batch(batch_size: int, size: int) -> dict:
    """Random ``uint8`` images and their data samples, as a loader gives."""
    from mmdet.structures import DetDataSample
    g = torch.Generator().manual_seed(0)
    inputs, samples = [], []
    for _ in range(batch_size):
        inputs.append(
            torch.randint(0, 256, (3, size, size), generator=g).byte())
        samples.append(
            DetDataSample(
                metainfo=dict(
                    img_shape=(size, size),
                    ori_shape=(size, size),
                    scale_factor=(1., 1.))))
    return dict(inputs=inputs, data_samples=samples)


def main(argv: Optional[List[str]] = None) -> None:
    args = parse_args(argv)
    if args.num_iters < 1 or args.batch_size < 1 or args.warmup < 0:
        raise SystemExit('--num-iters and --batch-size must be positive and '
                         '--warmup non-negative')
    on_cuda = args.device.startswith('cuda')
    if args.amp_dtype != 'fp32' and not on_cuda:
        raise SystemExit('--amp-dtype fp16/bf16 needs a CUDA device; '
                         'use --amp-dtype fp32 on CPU')
    cfg = Config.fromfile(args.config)
    if args.cfg_options:
        cfg.merge_from_dict(args.cfg_options)
    init_default_scope(cfg.get('default_scope', 'mmclipself'))
    head = cfg.model.roi_head.bbox_head
    backbone = cfg.model.backbone
    if args.checkpoint is None and 'clip' in backbone:
        backbone.clip.pretrained = None  # random weights: no download
    # which classes are base does not change the cost (and its json may be
    # missing here)
    head.base_classes = None
    size = args.image_size or config_image_size(cfg)

    with tempfile.TemporaryDirectory() as tmp:
        vocabulary = args.vocabulary or head.cls_predictor_cfg.get(
            'embeddings')
        if not vocabulary or not osp.isfile(vocabulary):
            num_classes = args.num_classes or dataset_num_classes(cfg) or 80
            dim = head.fc_out_channels
            print(f'warning: vocabulary file {vocabulary} not found: using '
                  f'{num_classes} random {dim}-d class embeddings')
            vocabulary = random_vocabulary(
                osp.join(tmp, 'random_vocabulary.pt'),
                num_classes,
                dim,
                background=True)
        model = init_ov_detector(
            cfg, args.checkpoint, vocabulary=vocabulary, device=args.device)
    num_classes = len(model.dataset_meta['classes'])
    data = synthetic_batch(args.batch_size, size)
    amp = torch.autocast(
        device_type='cuda', dtype=AMP_DTYPES[args.amp_dtype]
    ) if args.amp_dtype != 'fp32' else contextlib.nullcontext()

    def sync():
        if on_cuda:
            torch.cuda.synchronize()

    detections = []

    def step():
        batch = model.data_preprocessor(data, False)
        with amp:
            results = model(**batch, mode='predict')
        detections.append(sum(len(r.pred_instances) for r in results))

    with torch.inference_mode():
        for _ in range(args.warmup):
            step()
        sync()
        if on_cuda:
            torch.cuda.reset_peak_memory_stats()
        detections.clear()
        start = time.perf_counter()
        for _ in range(args.num_iters):
            step()
        sync()
        elapsed = time.perf_counter() - start
    per_iter = elapsed / max(args.num_iters, 1)
    per_image = per_iter / args.batch_size
    print(f'config: {args.config}')
    print(f'device: {torch.cuda.get_device_name() if on_cuda else "cpu"}, '
          f'{args.amp_dtype}, batch {args.batch_size}, input {size}x{size}, '
          f'{num_classes} classes, '
          f'{"checkpoint" if args.checkpoint else "random weights"}')
    print(f'iterations: {args.num_iters} (after {args.warmup} warm-up)')
    print(f'ms/image: {per_image * 1e3:.2f}')
    print(f'images/s: {1 / per_image:.2f}')
    if detections:
        print(f'detections/image: '
              f'{sum(detections) / len(detections) / args.batch_size:.1f}')
    if on_cuda:
        peak = torch.cuda.max_memory_allocated() / 2**30
        print(f'peak GPU memory: {peak:.2f} GiB')


if __name__ == '__main__':
    main()
