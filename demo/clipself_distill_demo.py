# Copyright (c) mmclipself contributors. All rights reserved.
"""`make demo`: CLIPSelf self-distillation end to end on a CPU in minutes.

A tiny EVA02-CLIP-shaped tower (random weights; real weights cannot be
downloaded here) is distilled on six real photos that ship with
scikit-image, and the region-to-crop alignment (mean cosine between the
student's RoIAlign region embeddings and the teacher's embeddings of the same
regions cropped from the image, paper §3.2) is measured on two held-out
photos before and after training.
"""
import argparse
import os
import os.path as osp
import time

from mmengine.config import Config
from mmengine.runner import Runner

import mmclipself  # noqa: F401  (config scope, safe checkpoint loading)

REPO = osp.dirname(osp.dirname(osp.abspath(__file__)))
CONFIG = osp.join(REPO, 'configs', 'clipself', 'clipself_tiny-eva02_demo.py')
TRAIN = [
    'astronaut.png', 'chelsea.png', 'coffee.png', 'rocket.jpg',
    'motorcycle_left.png', 'hubble_deep_field.jpg'
]
HELD_OUT = ['motorcycle_right.png', 'retina.jpg']


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('--work-dir', default=osp.join('work_dirs', 'demo'))
    parser.add_argument('--iters', type=int, default=60)
    return parser.parse_args()


def main() -> None:
    args = parse_args()
    try:
        import skimage.data
    except ImportError as e:
        raise SystemExit(f'the demo photos come with scikit-image ({e}): '
                         'pip install scikit-image (or run make demo)')
    image_dir = skimage.data.data_dir
    missing = [
        n for n in TRAIN + HELD_OUT if not osp.isfile(osp.join(image_dir, n))
    ]
    if missing:
        raise FileNotFoundError(f'scikit-image lacks {missing} in '
                                f'{image_dir}; reinstall scikit-image')

    cfg = Config.fromfile(CONFIG)
    cfg.work_dir = args.work_dir
    os.makedirs(args.work_dir, exist_ok=True)
    lists = {}
    for split, names in (('train', TRAIN), ('val', HELD_OUT)):
        lists[split] = osp.abspath(
            osp.join(args.work_dir, f'{split}_images.txt'))
        with open(lists[split], 'w') as f:
            f.write('\n'.join(names) + '\n')
    for key, split in (('train_dataloader', 'train'),
                       ('val_dataloader', 'val'), ('test_dataloader', 'val')):
        cfg[key].dataset.ann_file = lists[split]
        cfg[key].dataset.data_prefix = dict(img_path=image_dir)
    cfg.train_cfg.max_iters = args.iters
    cfg.train_cfg.val_begin = args.iters + 1  # we validate before and after
    cfg.param_scheduler[-1].end = args.iters
    cfg.param_scheduler[-1].T_max = args.iters
    cfg.default_hooks.checkpoint.interval = args.iters

    print(f'CLIPSelf demo: {len(TRAIN)} training photos, {len(HELD_OUT)} '
          f'held-out photos from {image_dir}; {args.iters} iterations; '
          f'logs in {args.work_dir}')
    start = time.time()
    runner = Runner.from_cfg(cfg)
    before = runner.val()
    runner.train()
    after = runner.val()
    key = 'clipself/region_crop_cos'
    print('\nregion-to-crop alignment on held-out photos '
          f'({after["clipself/num_regions"]} regions, mean cosine)')
    print(f'  before CLIPSelf: {before[key]:.4f}')
    print(f'  after  CLIPSelf: {after[key]:.4f}')
    print(f'demo finished in {time.time() - start:.0f} s')


if __name__ == '__main__':
    main()
