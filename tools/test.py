# Copyright (c) mmclipself contributors. All rights reserved.
"""Evaluate a checkpoint with the test evaluator of a config.

Examples:
    python tools/test.py CONFIG CHECKPOINT
    tools/dist_test.sh CONFIG CHECKPOINT 8 --out results.pkl
    python tools/test.py CONFIG CHECKPOINT --show-dir vis  # drawn boxes
    # no checkpoint: evaluate the model's own pretrained weights, e.g. the
    # original CLIP of a CLIPSelf config (paper Table 2, "original" rows)
    python tools/test.py configs/clipself/eva_vitb16_coco.py
"""
import argparse
import os
import os.path as osp

from mmengine.config import Config, DictAction
from mmengine.model import is_model_wrapper
from mmengine.registry import RUNNERS
from mmengine.runner import Runner

# Imported first so that configs may inherit `mmclipself::...` bases and
# checkpoints load with PyTorch's safe loader (mmclipself/utils/).
import mmclipself  # noqa: F401,E402
from mmclipself.engine import (CheckpointMismatchError,  # noqa: E402
                               ConfigKeyError)
from mmclipself.models.utils.clip_checkpoint import (  # noqa: E402
    CheckpointReadError, check_checkpoint_file)


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description='Test (evaluate) a model')
    parser.add_argument('config', help='config file path')
    parser.add_argument(
        'checkpoint',
        nargs='?',
        help='checkpoint file; omit it to evaluate the weights the model '
        'loads itself (its pretrained CLIP)')
    parser.add_argument('--work-dir', help='where the metric logs go')
    parser.add_argument(
        '--out', help='also dump the raw predictions to this .pkl file')
    parser.add_argument(
        '--cfg-options',
        nargs='+',
        action=DictAction,
        help='override config entries, e.g. test_dataloader.batch_size=1')
    parser.add_argument(
        '--show',
        action='store_true',
        help='show the predictions (configs with a visualization hook, '
        'e.g. the F-ViT ones)')
    parser.add_argument(
        '--show-dir',
        help='draw the predictions into this folder, relative to '
        'WORK_DIR/TIMESTAMP')
    parser.add_argument(
        '--wait-time', type=float, default=2, help='seconds per --show')
    parser.add_argument(
        '--launcher',
        choices=['none', 'pytorch', 'slurm', 'mpi'],
        default='none',
        help='job launcher')
    parser.add_argument('--local_rank', '--local-rank', type=int, default=0)
    args = parser.parse_args()
    if 'LOCAL_RANK' not in os.environ:
        os.environ['LOCAL_RANK'] = str(args.local_rank)
    return args


def main() -> None:
    args = parse_args()
    if not osp.isfile(args.config):
        raise FileNotFoundError(f'config file not found: {args.config}')
    if args.checkpoint is not None and not osp.isfile(args.checkpoint):
        raise FileNotFoundError(f'checkpoint not found: {args.checkpoint}')
    if args.checkpoint is not None:
        check_checkpoint_file(args.checkpoint)  # corrupt or truncated
    cfg = Config.fromfile(args.config)
    cfg.launcher = args.launcher
    if args.cfg_options is not None:
        cfg.merge_from_dict(args.cfg_options)

    if args.work_dir is not None:
        cfg.work_dir = args.work_dir
    elif cfg.get('work_dir', None) is None:
        cfg.work_dir = osp.join('./work_dirs',
                                osp.splitext(osp.basename(args.config))[0])
    cfg.load_from = args.checkpoint

    if args.show or args.show_dir:
        hook = cfg.get('default_hooks', {}).get('visualization')
        if hook is None:
            raise ValueError(
                f'{args.config} has no default_hooks.visualization: --show '
                'and --show-dir need one (configs/_base_/det_runtime.py)')
        hook.draw = True
        if args.show:
            hook.update(show=True, wait_time=args.wait_time)
        if args.show_dir:
            hook.test_out_dir = args.show_dir

    if args.out is not None:
        if not args.out.endswith(('.pkl', '.pickle')):
            raise ValueError(f'--out must be a .pkl file, got {args.out}')
        evaluator = cfg.test_evaluator
        if isinstance(evaluator, dict) and 'metrics' not in evaluator:
            evaluator = [evaluator]
        if isinstance(evaluator, (list, tuple)):
            evaluator = list(evaluator)
            evaluator.append(dict(type='DumpResults', out_file_path=args.out))
        else:
            evaluator.metrics.append(
                dict(type='DumpResults', out_file_path=args.out))
        cfg.test_evaluator = evaluator

    runner = (
        Runner.from_cfg(cfg)
        if 'runner_type' not in cfg else RUNNERS.build(cfg))
    if args.checkpoint is None:
        model = runner.model.module if is_model_wrapper(
            runner.model) else runner.model
        model.init_weights()  # the model's own pretrained weights
    runner.test()


if __name__ == '__main__':
    try:
        main()
    except (CheckpointReadError, CheckpointMismatchError, ConfigKeyError) as e:
        # one line naming the file (and the keys); the cause is chained
        raise SystemExit(f'error: {e}')
