# Copyright (c) mmclipself contributors. All rights reserved.
"""Train with an mmclipself config (MMDetection 3.x-style launcher).

Examples:
    python tools/train.py configs/clipself/eva_vitb16_coco.py
    tools/dist_train.sh configs/clipself/eva_vitl14_lvis.py 8 --amp
    python tools/train.py CONFIG --resume            # latest in work_dir
    python tools/train.py CONFIG --resume PATH.pth   # a given checkpoint
"""
import argparse
import os
import os.path as osp

from mmengine.config import Config, DictAction
from mmengine.registry import RUNNERS
from mmengine.runner import Runner, find_latest_checkpoint

# Imported first so that configs may inherit `mmclipself::...` bases and
# checkpoints load with PyTorch's safe loader (mmclipself/utils/).
import mmclipself  # noqa: F401,E402
from mmclipself.engine import (CheckpointMismatchError,  # noqa: E402
                               ConfigKeyError)
from mmclipself.models.utils.clip_checkpoint import (  # noqa: E402
    CheckpointReadError, check_checkpoint_file)


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description='Train a model')
    parser.add_argument('config', help='config file path')
    parser.add_argument('--work-dir', help='where logs and checkpoints go')
    parser.add_argument(
        '--amp',
        action='store_true',
        help='automatic mixed precision (AmpOptimWrapper, dynamic loss '
        'scale)')
    parser.add_argument(
        '--auto-scale-lr',
        action='store_true',
        help='scale the LR by the real batch size / '
        'auto_scale_lr.base_batch_size')
    parser.add_argument(
        '--resume',
        nargs='?',
        type=str,
        const='auto',
        help='resume from this checkpoint, or without a value from the '
        'latest checkpoint in the work dir (iteration, optimizer, scheduler '
        'and logger state included)')
    parser.add_argument(
        '--cfg-options',
        nargs='+',
        action=DictAction,
        help='override config entries, e.g. train_dataloader.batch_size=4 '
        'or key="[a,b]"; no white space inside a value')
    parser.add_argument(
        '--launcher',
        choices=['none', 'pytorch', 'slurm', 'mpi'],
        default='none',
        help='job launcher')
    # torch.distributed.launch passes --local-rank; torchrun sets LOCAL_RANK.
    parser.add_argument('--local_rank', '--local-rank', type=int, default=0)
    args = parser.parse_args()
    if 'LOCAL_RANK' not in os.environ:
        os.environ['LOCAL_RANK'] = str(args.local_rank)
    return args


def main() -> None:
    args = parse_args()
    if not osp.isfile(args.config):
        raise FileNotFoundError(f'config file not found: {args.config}')
    cfg = Config.fromfile(args.config)
    cfg.launcher = args.launcher
    if args.cfg_options is not None:
        cfg.merge_from_dict(args.cfg_options)

    # work_dir: command line > config > ./work_dirs/<config name>
    if args.work_dir is not None:
        cfg.work_dir = args.work_dir
    elif cfg.get('work_dir', None) is None:
        cfg.work_dir = osp.join('./work_dirs',
                                osp.splitext(osp.basename(args.config))[0])

    if args.amp:
        optim_type = cfg.optim_wrapper.get('type', 'OptimWrapper')
        if optim_type not in ('OptimWrapper', 'AmpOptimWrapper'):
            raise RuntimeError(f'--amp needs an (Amp)OptimWrapper, the config '
                               f'uses {optim_type}')
        cfg.optim_wrapper.type = 'AmpOptimWrapper'
        cfg.optim_wrapper.setdefault('loss_scale', 'dynamic')

    if args.auto_scale_lr:
        if 'base_batch_size' not in cfg.get('auto_scale_lr', {}):
            raise RuntimeError('--auto-scale-lr needs auto_scale_lr = '
                               'dict(base_batch_size=...) in the config')
        cfg.auto_scale_lr.enable = True

    if args.resume == 'auto':
        cfg.resume = True
        cfg.load_from = None
    elif args.resume is not None:
        if not osp.isfile(args.resume):
            raise FileNotFoundError(
                f'checkpoint to resume from not found: {args.resume}')
        cfg.resume = True
        cfg.load_from = args.resume

    # the file the Runner will load (resume or load_from), checked first
    checkpoint = cfg.get('load_from')
    if cfg.get('resume') and checkpoint is None:
        checkpoint = find_latest_checkpoint(cfg.work_dir)
    if checkpoint is not None and osp.isfile(checkpoint):
        check_checkpoint_file(checkpoint)

    runner = (
        Runner.from_cfg(cfg)
        if 'runner_type' not in cfg else RUNNERS.build(cfg))
    runner.train()


if __name__ == '__main__':
    try:
        main()
    except (CheckpointReadError, CheckpointMismatchError, ConfigKeyError) as e:
        # one line naming the file (and the keys); the cause is chained
        raise SystemExit(f'error: {e}')
