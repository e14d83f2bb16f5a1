# Copyright (c) mmclipself contributors. All rights reserved.
"""Teacher crops of ``CLIPSelfDataPreprocessor`` against the release's.

The release (reference facts §2) cuts every crop from the original PIL
image (``Image.crop``, which rounds the box to whole pixels), resizes its
longest side to 224/336 with PIL bicubic and centres it on a black square
(``ResizeMaxSize``; open_clip 3 calls it ``ResizeKeepRatio(longest=1)`` +
``CenterCropOrPad``, used here). For every image of a folder this tool
makes the grid tiles of the configs (``RandomGridRegions``, release (m, n)
pairs up to 6 x 6) and enlarged proposal crops (``ProposalRegions``, 1.5x,
clipped; random boxes, some touching the border), crops them both ways and
prints, per crop mode, the PSNR (median, minimum) and the mean absolute
difference in 0..255 pixel units, over the whole crop (padding included).

Examples:
    python tools/analysis/crop_parity.py                # skimage photos
    python tools/analysis/crop_parity.py data/coco/val2017 --max-images 20 \\
        --crop-size 336 --grids all
"""
import argparse
import glob
import os.path as osp
from typing import Dict, Iterable, List, Sequence, Tuple

import numpy as np
import torch
from open_clip.transform import CenterCropOrPad, ResizeKeepRatio
from PIL import Image
from torchvision.transforms import InterpolationMode

from mmclipself.datasets.transforms import ProposalRegions, RandomGridRegions
from mmclipself.models.data_preprocessors import CLIPSelfDataPreprocessor
from mmclipself.models.data_preprocessors.clipself_data_preprocessor import \
    CROP_MODES

#: Colour photos shipped with scikit-image (the default folder's images).
SKIMAGE_PHOTOS = ('astronaut.png', 'chelsea.png', 'coffee.png',
                  'motorcycle_left.png', 'rocket.jpg', 'retina.jpg',
                  'hubble_deep_field.jpg')
IMAGE_EXTS = ('.jpg', '.jpeg', '.png', '.bmp', '.webp', '.tif', '.tiff')


def image_paths(folder: str = None, max_images: int = None) -> List[str]:
    """Images of ``folder`` (sorted), or scikit-image's colour photos."""
    if folder is None:
        import skimage.data
        paths = [osp.join(skimage.data.data_dir, n) for n in SKIMAGE_PHOTOS]
    else:
        if not osp.isdir(folder):
            raise FileNotFoundError(f'no image folder {folder}')
        paths = sorted(
            p for p in glob.glob(osp.join(folder, '*'))
            if p.lower().endswith(IMAGE_EXTS))
        if not paths:
            raise FileNotFoundError(f'no images ({IMAGE_EXTS}) in {folder}')
    return paths[:max_images]


def grid_splits(kind: str = 'release',
                max_split: int = 6) -> List[Tuple[int, int]]:
    """(rows, columns) of the grids: the release's pairs, squares or all."""
    if kind == 'release':
        return RandomGridRegions(max_split, sampling='release').release_pairs
    if kind == 'square':
        return [(k, k) for k in range(1, max_split + 1)]
    if kind == 'all':
        return [(m, n) for m in range(1, max_split + 1)
                for n in range(1, max_split + 1)]
    raise ValueError(f"grids must be 'release', 'square' or 'all', got "
                     f'{kind!r}')


def grid_crop_boxes(height: int, width: int,
                    splits: Iterable[Tuple[int, int]]) -> np.ndarray:
    """Every tile of every grid, as the pipeline makes them (float32)."""
    return np.concatenate(
        [RandomGridRegions.grid_boxes(height, width, m, n) for m, n in splits])


def proposal_crop_boxes(height: int,
                        width: int,
                        num: int = 24,
                        crop_scale: float = 1.5,
                        seed: int = 0) -> np.ndarray:
    """Teacher crops of random proposals, enlarged and clipped.

    Box sides are log-uniform between 8 px and the image side; a third of
    the boxes is pushed against an image border, so that the enlarged crop
    is clipped there. ``ProposalRegions`` enlarges and clips them.
    """
    rng = np.random.RandomState(seed)
    sides = np.exp(rng.uniform(np.log(8), np.log([width, height]), (num, 2)))
    x0 = rng.uniform(0, width - sides[:, 0])
    y0 = rng.uniform(0, height - sides[:, 1])
    edge = rng.randint(0, 6, num)  # 0..3: a border, else inside
    x0[edge == 0] = 0
    y0[edge == 1] = 0
    x0[edge == 2] = width - sides[edge == 2, 0]
    y0[edge == 3] = height - sides[edge == 3, 1]
    boxes = np.stack([x0, y0, x0 + sides[:, 0], y0 + sides[:, 1]], 1)
    state = np.random.get_state()
    np.random.seed(seed)
    try:
        res = ProposalRegions(
            max_regions=None, crop_scale=crop_scale, fallback='error')(
                dict(proposals=boxes, img_shape=(height, width)))
    finally:
        np.random.set_state(state)
    return res['crop_regions']


def pil_release_crops(image: Image.Image, boxes: np.ndarray,
                      crop_size: int) -> np.ndarray:
    """The release route with PIL: (N, 3, C, C) uint8 crops."""
    resize = ResizeKeepRatio(
        crop_size, longest=1, interpolation=InterpolationMode.BICUBIC)
    pad = CenterCropOrPad(crop_size, fill=0)
    out = [
        np.asarray(pad(resize(image.crop(tuple(map(float, box))))))
        for box in boxes
    ]
    return np.stack(out).transpose(0, 3, 1, 2)


def our_crops(image: Image.Image, boxes: np.ndarray, crop_size: int,
              crop_mode: str) -> np.ndarray:
    """Crops of :class:`CLIPSelfDataPreprocessor`, back in 0..255 RGB."""
    pre = CLIPSelfDataPreprocessor(
        crop_size=crop_size, bgr_to_rgb=False, crop_mode=crop_mode)
    img = torch.from_numpy(np.asarray(image).transpose(2, 0, 1).copy())
    with torch.no_grad():
        crops = pre.teacher_crops([img], [torch.from_numpy(boxes)])
    return (crops * pre.std + pre.mean).numpy()


def crop_psnr(ours: np.ndarray, ref: np.ndarray) -> np.ndarray:
    """Per-crop PSNR in dB (peak 255); identical crops give inf."""
    err = ours.astype(np.float64) - ref.astype(np.float64)
    mse = (err**2).reshape(len(err), -1).mean(1)
    with np.errstate(divide='ignore'):
        return 10 * np.log10(255.**2 / mse)


def parity(paths: Sequence[str],
           crop_size: int = 224,
           grids: str = 'release',
           proposals: int = 24,
           crop_scale: float = 1.5,
           modes: Sequence[str] = CROP_MODES) -> Dict[str, Dict[str, dict]]:
    """PSNR and mean absolute difference per crop kind and mode.

    Returns:
        ``{kind: {mode: dict(psnr=array, mad=float, n=int)}}`` with kind
        ``'grid'`` and ``'proposal'``.
    """
    acc = {
        kind: {
            m: dict(psnr=[], err=[])
            for m in modes
        }
        for kind in ('grid', 'proposal')
    }
    splits = grid_splits(grids)
    for seed, path in enumerate(paths):
        image = Image.open(path).convert('RGB')
        w, h = image.size
        kinds = dict(grid=grid_crop_boxes(h, w, splits))
        if proposals:
            kinds['proposal'] = proposal_crop_boxes(h, w, proposals,
                                                    crop_scale, seed)
        for kind, boxes in kinds.items():
            ref = pil_release_crops(image, boxes, crop_size)
            for mode in modes:
                ours = our_crops(image, boxes, crop_size, mode)
                acc[kind][mode]['psnr'].append(crop_psnr(ours, ref))
                acc[kind][mode]['err'].append(
                    np.abs(ours - ref).reshape(len(ref), -1).mean(1))
    result = {}
    for kind, per_mode in acc.items():
        if not per_mode[modes[0]]['psnr']:
            continue
        result[kind] = {
            m:
            dict(
                psnr=np.concatenate(v['psnr']),
                mad=float(np.concatenate(v['err']).mean()),
                n=int(sum(len(e) for e in v['err'])))
            for m, v in per_mode.items()
        }
    return result


def format_table(result: Dict[str, Dict[str, dict]]) -> str:
    """The numbers as a Markdown table."""
    lines = [
        '| crops | mode | n | PSNR median (dB) | PSNR min (dB) '
        '| mean abs. diff. (/255) |', '|---|---|---|---|---|---|'
    ]
    for kind, per_mode in result.items():
        for mode, r in per_mode.items():
            lines.append(f'| {kind} | {mode} | {r["n"]} | '
                         f'{np.median(r["psnr"]):.1f} | '
                         f'{r["psnr"].min():.1f} | {r["mad"]:.3f} |')
    return '\n'.join(lines)


def parse_args() -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument(
        'folder',
        nargs='?',
        help='images to crop (default: the scikit-image colour photos)')
    p.add_argument('--max-images', type=int, default=None)
    p.add_argument('--crop-size', type=int, default=224)
    p.add_argument(
        '--grids',
        choices=['release', 'square', 'all'],
        default='release',
        help='grid sizes up to 6x6: the release (m, n) pairs (configs), '
        'squares, or all 36')
    p.add_argument(
        '--proposals',
        type=int,
        default=24,
        help='random proposals per image (0: none)')
    p.add_argument('--crop-scale', type=float, default=1.5)
    p.add_argument(
        '--modes', nargs='+', choices=CROP_MODES, default=list(CROP_MODES))
    return p.parse_args()


def main() -> None:
    args = parse_args()
    paths = image_paths(args.folder, args.max_images)
    result = parity(paths, args.crop_size, args.grids, args.proposals,
                    args.crop_scale, args.modes)
    print(f'{len(paths)} images, crops {args.crop_size}, grids '
          f'{args.grids} up to 6x6, proposal crops x{args.crop_scale}')
    print(format_table(result))


if __name__ == '__main__':
    main()
