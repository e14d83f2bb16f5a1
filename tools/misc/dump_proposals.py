# Copyright (c) mmclipself contributors. All rights reserved.
"""Dump an RPN's region proposals as the JSON CLIPSelf distils on.

Runs a trained RPN (``configs/fvit/rpn_eva-vitb16_ov-coco-base.py``) over
the images of a split with the config's *test* pipeline (resize only, no
flip or crop), rescales the boxes to the original images and writes
COCO-results-style records, best first per image::

    [{"image_id": 9, "bbox": [x, y, w, h], "score": 0.9731}, ...]

which ``ImageRegionDataset(proposal_file=...)`` (the ``train_dataloader``
of ``configs/clipself/eva_vitb16_coco_proposals.py``) reads. Boxes are in
pixels of the original image, clipped to it, rounded to 2 decimals.

Examples:
    python tools/misc/dump_proposals.py \\
        configs/fvit/rpn_eva-vitb16_ov-coco-base.py \\
        work_dirs/rpn_eva-vitb16_ov-coco-base/epoch_3.pth \\
        --out data/coco/proposals/coco_train2017_proposals.json
    # val2017 instead, at most 300 boxes scoring >= 0.05, sides >= 8 px
    python tools/misc/dump_proposals.py CONFIG CHECKPOINT --split val \\
        --out val.json --max-per-img 300 --score-thr 0.05 --min-size 8

``--split train`` (default) reads the image list of the config's training
annotation file (for OV-COCO ``instances_train2017_seen_2_65_cat.json``,
which lists every train2017 image, also those without a base-class box)
with the test pipeline; ``--split val`` uses ``test_dataloader`` as it is.
Runs on a GPU when there is one, else on the CPU (``--device``).
"""
import argparse
import copy
import json
import os
import os.path as osp
import time
from typing import Dict, Iterable, Iterator, List, Optional, Tuple

import numpy as np
import torch
from mmengine.config import Config, ConfigDict, DictAction
from mmengine.logging import MMLogger
from mmengine.model import revert_sync_batchnorm
from mmengine.registry import init_default_scope
from mmengine.runner import Runner, load_checkpoint

# Imported before any config is read so that configs may inherit
# `mmclipself::...` bases and checkpoints load with PyTorch's safe loader
# (mmclipself/utils/).
import mmclipself  # noqa: F401,E402
from mmclipself.models.utils import init_frozen_parts
from mmclipself.registry import MODELS
from mmclipself.utils import register_all_modules

SPLITS = ('train', 'val')
#: Transforms that change an image randomly (or several times): a proposal
#: dump must see each image once, as at test time.
RANDOM_TRANSFORMS = ('Random', 'TestTimeAug', 'MultiScaleFlipAug')


def parse_args(argv: Optional[List[str]] = None) -> argparse.Namespace:
    """Parse the command line (``argv``; ``sys.argv[1:]`` when None)."""
    parser = argparse.ArgumentParser(
        description='Dump RPN proposals as COCO-results JSON for CLIPSelf.')
    parser.add_argument('config', help='RPN config file')
    parser.add_argument('checkpoint', help='RPN checkpoint file')
    parser.add_argument(
        '--out',
        required=True,
        help='output .json, e.g. '
        'data/coco/proposals/coco_train2017_proposals.json')
    parser.add_argument(
        '--split',
        choices=SPLITS,
        default='train',
        help='train: the image list of train_dataloader with the test '
        'pipeline; val: test_dataloader')
    parser.add_argument(
        '--max-per-img',
        type=int,
        default=100,
        help='boxes kept per image, highest scores first')
    parser.add_argument(
        '--score-thr',
        type=float,
        default=0.0,
        help='drop boxes scoring below this')
    parser.add_argument(
        '--min-size',
        type=float,
        default=0.0,
        help='drop boxes whose width or height (original pixels) is below '
        'this')
    parser.add_argument(
        '--batch-size',
        type=int,
        default=None,
        help='images per forward pass (default: the test dataloader\'s)')
    parser.add_argument(
        '--num-workers',
        type=int,
        default=None,
        help='dataloader workers (default: the test dataloader\'s)')
    parser.add_argument(
        '--device',
        default=None,
        help='cuda or cpu (default: cuda when available)')
    parser.add_argument(
        '--log-interval',
        type=int,
        default=500,
        help='log progress every this many images')
    parser.add_argument(
        '--cfg-options',
        nargs='+',
        action=DictAction,
        help='override config entries, e.g. '
        'train_dataloader.dataset.ann_file=annotations/x.json')
    args = parser.parse_args(argv)
    if args.max_per_img < 1:
        parser.error(f'--max-per-img must be >= 1, got {args.max_per_img}')
    if args.log_interval < 1:
        parser.error(f'--log-interval must be >= 1, got {args.log_interval}')
    return args


def _transform_type(t: dict) -> str:
    return str(t.get('type', '')).split('.')[-1]


def proposal_loader_cfg(cfg: Config,
                        split: str = 'train',
                        batch_size: Optional[int] = None,
                        num_workers: Optional[int] = None) -> ConfigDict:
    """The dataloader config that feeds the dump.

    Args:
        cfg: The RPN config.
        split: ``'train'``: ``test_dataloader`` with the annotation file,
            data root and image prefix of ``train_dataloader`` (every image
            of the file, ``test_mode=True``); ``'val'``: ``test_dataloader``.
        batch_size: Override of the batch size.
        num_workers: Override of the worker count.

    Returns:
        A dataloader config for :meth:`mmengine.runner.Runner.build_dataloader`
        with an ordered, non-shuffling sampler and the test pipeline without
        ``LoadAnnotations`` (no boxes are needed).

    Raises:
        ValueError: Unknown split, or a random transform (flip, crop,
            random resize, test-time augmentation) in the test pipeline.
    """
    if split not in SPLITS:
        raise ValueError(f'split must be one of {SPLITS}, got {split!r}')
    loader = copy.deepcopy(cfg.test_dataloader)
    dataset = loader.dataset
    if split == 'train':
        train = cfg.train_dataloader.dataset
        while 'dataset' in train and 'ann_file' not in train:
            train = train.dataset  # dataset wrappers (RepeatDataset, ...)
        for key in ('ann_file', 'data_root', 'data_prefix'):
            if key in train:
                dataset[key] = copy.deepcopy(train[key])
    dataset.test_mode = True  # every image, none filtered out
    dataset.pop('filter_cfg', None)
    for t in dataset.pipeline:
        if any(r in _transform_type(t) for r in RANDOM_TRANSFORMS):
            raise ValueError(
                f'the test pipeline has a {t["type"]}; proposals are dumped '
                'from single, unaugmented passes: remove it from '
                'test_dataloader.dataset.pipeline')
    dataset.pipeline = [
        t for t in dataset.pipeline if _transform_type(t) != 'LoadAnnotations'
    ]
    loader.sampler = dict(type='DefaultSampler', shuffle=False)
    loader.pop('batch_sampler', None)
    loader.drop_last = False
    if batch_size is not None:
        loader.batch_size = batch_size
    if num_workers is not None:
        loader.num_workers = num_workers
    if loader.get('num_workers', 0) == 0:
        loader.persistent_workers = False
    return loader


def proposals_to_records(bboxes: np.ndarray,
                         scores: np.ndarray,
                         image_id: int,
                         ori_shape: Tuple[int, int],
                         max_per_img: int = 100,
                         score_thr: float = 0.0,
                         min_size: float = 0.0) -> List[dict]:
    """Turn one image's proposals into COCO-results records.

    Boxes are clipped to the original image, rounded to 2 decimals (corners
    first, so ``x + w`` never passes the image border), filtered and sorted
    by score; the best ``max_per_img`` are kept.

    Args:
        bboxes: (K, 4) ``xyxy`` boxes in original-image pixels.
        scores: (K, ) objectness scores.
        image_id: The image's id in the annotation file.
        ori_shape: ``(height, width)`` of the original image.
        max_per_img: Maximum number of records.
        score_thr: Boxes scoring below it are dropped.
        min_size: Boxes narrower or lower than it (pixels) are dropped;
            boxes of zero width or height (after rounding) always are.

    Returns:
        ``[{"image_id", "bbox": [x, y, w, h], "score"}]``, best first.
    """
    bboxes = np.asarray(bboxes, np.float64).reshape(-1, 4)
    scores = np.asarray(scores, np.float64).reshape(-1)
    height, width = ori_shape[:2]
    bboxes[:, 0::2] = bboxes[:, 0::2].clip(0, width)
    bboxes[:, 1::2] = bboxes[:, 1::2].clip(0, height)
    bboxes = bboxes.round(2)
    w = (bboxes[:, 2] - bboxes[:, 0]).round(2)
    h = (bboxes[:, 3] - bboxes[:, 1]).round(2)
    keep = (scores >= score_thr) & (w > 0) & (h > 0) & (w >= min_size) & (
        h >= min_size)
    idx = np.flatnonzero(keep)
    idx = idx[np.argsort(-scores[idx], kind='stable')][:max_per_img]
    return [
        dict(
            image_id=int(image_id),
            bbox=[
                float(bboxes[i, 0]),
                float(bboxes[i, 1]),
                float(w[i]),
                float(h[i])
            ],
            score=round(float(scores[i]), 4)) for i in idx
    ]


def _check_files(config: str, checkpoint: str) -> None:
    if not osp.isfile(config):
        raise FileNotFoundError(f'config file not found: {config}')
    if not osp.isfile(checkpoint):
        raise FileNotFoundError(f'checkpoint not found: {checkpoint}')


def build_rpn(cfg: Config, checkpoint: str, device: str,
              max_per_img: int) -> torch.nn.Module:
    """Build the RPN, load ``checkpoint`` strictly, move it to ``device``.

    The checkpoint may lack the frozen CLIP tower: it is read from the
    tower's ``pretrained`` source first (``init_frozen_parts``) and checked
    against the checkpoint's record while loading. Any other
    missing or unexpected key is an error that lists the keys (mmengine's
    ``load_checkpoint(strict=True)``).
    """
    model_cfg = copy.deepcopy(cfg.model)
    rpn_test = model_cfg.get('test_cfg', {}).get('rpn')
    if rpn_test is None:
        raise ValueError('the config has no model.test_cfg.rpn: is it an RPN '
                         f'config? (model type {model_cfg.get("type")!r})')
    # keep at least --max-per-img boxes after NMS (filters come later)
    rpn_test.max_per_img = max(rpn_test.get('max_per_img', 0), max_per_img)
    model = MODELS.build(model_cfg)
    model = revert_sync_batchnorm(model)  # one process: plain BatchNorm
    init_frozen_parts(model)  # the frozen CLIP tower, not in checkpoints
    load_checkpoint(
        model, checkpoint, map_location='cpu', strict=True, logger='current')
    return model.to(device).eval()


def iter_proposals(model: torch.nn.Module,
                   dataloader: Iterable[dict],
                   max_per_img: int = 100,
                   score_thr: float = 0.0,
                   min_size: float = 0.0) -> Iterator[List[dict]]:
    """Run ``model`` over ``dataloader``; yield each image's records.

    See :func:`proposals_to_records` for the arguments. One list is yielded
    per image (empty when no box passes the filters), in loader order.
    """
    for data_batch in dataloader:
        with torch.no_grad():
            outputs = model.test_step(data_batch)
        for sample in outputs:
            pred = sample.pred_instances
            yield proposals_to_records(
                pred.bboxes.float().cpu().numpy(),
                pred.scores.float().cpu().numpy(),
                sample.metainfo['img_id'],
                sample.metainfo['ori_shape'],
                max_per_img=max_per_img,
                score_thr=score_thr,
                min_size=min_size)


def write_records(per_image: Iterable[List[dict]],
                  out: str,
                  num_images: Optional[int] = None,
                  log_interval: int = 500,
                  logger: Optional[MMLogger] = None) -> Dict[str, float]:
    """Stream the records into a JSON list at ``out``; return a summary.

    The list is written record by record (a full train2017 dump has
    millions), first to ``out + '.tmp'``, renamed when complete.

    Returns:
        ``dict(images, boxes, mean_per_image, images_without_boxes)``.
    """
    logger = logger or MMLogger.get_current_instance()
    os.makedirs(osp.dirname(osp.abspath(out)), exist_ok=True)
    tmp = f'{out}.tmp'
    images = boxes = empty = 0
    start = time.time()
    with open(tmp, 'w') as f:
        f.write('[')
        for records in per_image:
            for r in records:
                f.write((',\n' if boxes else '\n') +
                        json.dumps(r, separators=(',', ':')))
                boxes += 1
            images += 1
            empty += not records
            if images % log_interval == 0:
                speed = images / max(time.time() - start, 1e-6)
                logger.info(f'[{images}/{num_images or "?"}] images, '
                            f'{boxes} boxes, {speed:.1f} img/s')
        f.write('\n]\n')
    os.replace(tmp, out)  # no half-written file after a crash
    return dict(
        images=images,
        boxes=boxes,
        mean_per_image=boxes / max(images, 1),
        images_without_boxes=empty)


def main(argv: Optional[List[str]] = None) -> Dict[str, float]:
    """Dump the proposals; return the summary (see :func:`write_records`).

    Raises:
        FileNotFoundError: The config or the checkpoint does not exist.
    """
    args = parse_args(argv)
    _check_files(args.config, args.checkpoint)
    if not args.out.endswith('.json'):
        raise ValueError(f'--out must be a .json file, got {args.out}')
    cfg = Config.fromfile(args.config)
    if args.cfg_options is not None:
        cfg.merge_from_dict(args.cfg_options)
    register_all_modules(init_default_scope=False)
    init_default_scope(cfg.get('default_scope', 'mmclipself'))
    logger = MMLogger.get_instance(
        f'dump_proposals-{time.time()}', log_level='INFO')
    device = args.device or ('cuda' if torch.cuda.is_available() else 'cpu')

    loader_cfg = proposal_loader_cfg(cfg, args.split, args.batch_size,
                                     args.num_workers)
    dataloader = Runner.build_dataloader(loader_cfg)
    num_images = len(dataloader.dataset)
    logger.info(f'{num_images} images of {loader_cfg.dataset.ann_file} '
                f'({args.split} split), device {device}')
    model = build_rpn(cfg, args.checkpoint, device, args.max_per_img)
    per_image = iter_proposals(
        model,
        dataloader,
        max_per_img=args.max_per_img,
        score_thr=args.score_thr,
        min_size=args.min_size)
    summary = write_records(per_image, args.out, num_images, args.log_interval,
                            logger)
    logger.info(f'wrote {args.out}: {summary["images"]} images, '
                f'{summary["boxes"]} boxes, '
                f'{summary["mean_per_image"]:.1f} per image, '
                f'{summary["images_without_boxes"]} images without a box')
    return summary


if __name__ == '__main__':
    main()
