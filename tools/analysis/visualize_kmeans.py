# Copyright (c) mmclipself contributors. All rights reserved.
"""K-Means of a CLIP ViT's dense feature maps for a folder (paper Fig. 4).

For every image the dense CLIP map (paper §3.1) is clustered by cosine
similarity; clusters covering fewer than ``--min-fraction`` of the pixels are
dropped (black), as in the paper. Each output PNG shows the picture and its
clusters side by side.

The tower sees the picture as in CLIPSelf training
(:class:`CLIPSelfDataPreprocessor`): the longest side resized to ``--size``,
CLIP mean/std, zero padding at the bottom/right to a ``--size`` square. Only
the map cells that cover the picture are clustered.

Examples:
    python tools/analysis/visualize_kmeans.py photos/ out/ \\
        --arch eva02-b16 --pretrained epoch_6_student_blend0.7.pth
    python tools/analysis/visualize_kmeans.py photos/ out/ --arch vit-b16 \\
        --pretrained open_clip://ViT-B-16-quickgelu/openai --size 672
"""
import argparse
import math
import os
import os.path as osp

import numpy as np
import torch
import torch.nn.functional as F
from PIL import Image

from mmclipself.datasets.image_region_dataset import IMG_EXTENSIONS
from mmclipself.models import EVA02CLIPViT, OpenAICLIPViT
from mmclipself.models.data_preprocessors import CLIPSelfDataPreprocessor
from mmclipself.utils.kmeans import spherical_kmeans


def parse_args() -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument('images', help='folder of pictures')
    p.add_argument('out', help='output folder for the PNGs')
    p.add_argument(
        '--arch',
        required=True,
        choices=sorted({
            **EVA02CLIPViT.arch_zoo,
            **OpenAICLIPViT.arch_zoo
        }))
    p.add_argument(
        '--pretrained',
        help='tower weights (file or open_clip://'
        'MODEL/TAG); random weights if omitted')
    p.add_argument(
        '--size',
        type=int,
        default=1024,
        help='longest side of the picture and side of the padded square '
        'input (a multiple of the patch)')
    p.add_argument('--k', type=int, default=8, help='number of clusters')
    p.add_argument('--min-fraction', type=float, default=0.01)
    p.add_argument(
        '--device', default='cuda' if torch.cuda.is_available() else 'cpu')
    return p.parse_args()


def palette(k: int) -> np.ndarray:
    rng = np.random.RandomState(3)
    return rng.randint(40, 255, (k, 3)).astype(np.uint8)


@torch.no_grad()
def cluster_image(tower, img: Image.Image, size: int, k: int,
                  min_fraction: float, device: str) -> np.ndarray:
    """Cluster map of one picture as an RGB array of the picture's size.

    The picture is resized and zero-padded to a ``size`` square as in
    training; the dense map is cropped back to the cells covering it.
    """
    p = tower.patch_size
    if size % p:
        raise ValueError(f'--size {size} is not a multiple of the patch '
                         f'size {p}')
    w, h = img.size
    rgb = torch.from_numpy(np.array(img.convert('RGB'))).permute(2, 0, 1)
    prep = CLIPSelfDataPreprocessor(student_size=size, bgr_to_rgb=False)
    x, [(sx, sy)] = prep.student_batch([rgb])
    nh, nw = round(h * sy), round(w * sx)  # the picture inside the square
    dense = tower.forward_dense(x.to(device))[0]  # (D, size/p, size/p)
    fh, fw = math.ceil(nh / p), math.ceil(nw / p)
    dense = dense[:, :fh, :fw]
    d = dense.shape[0]
    labels, _ = spherical_kmeans(dense.reshape(d, -1).T, min(k, fh * fw))
    counts = torch.bincount(labels, minlength=k)
    colours = torch.from_numpy(palette(k)).to(labels.device)
    colours[counts < min_fraction * labels.numel()] = 0
    cells = colours[labels].reshape(fh, fw, 3).permute(2, 0, 1)[None]
    # cells -> pixels of the resized picture -> pixels of the picture
    cells = cells.repeat_interleave(p, 2).repeat_interleave(p, 3)
    cells = cells[..., :nh, :nw].float()
    cells = F.interpolate(cells, size=(h, w), mode='nearest')[0]
    return cells.permute(1, 2, 0).byte().cpu().numpy()


def main() -> None:
    args = parse_args()
    names = sorted(
        n for n in os.listdir(args.images)
        if n.lower().endswith(IMG_EXTENSIONS))
    if not names:
        raise FileNotFoundError(f'no images in {args.images}')
    cls = EVA02CLIPViT if args.arch in EVA02CLIPViT.arch_zoo else \
        OpenAICLIPViT
    tower = cls(arch=args.arch, pretrained=args.pretrained)
    if args.pretrained:
        tower.load_pretrained(args.pretrained)
    tower.to(args.device).eval()
    os.makedirs(args.out, exist_ok=True)
    for name in names:
        img = Image.open(osp.join(args.images, name)).convert('RGB')
        clusters = cluster_image(tower, img, args.size, args.k,
                                 args.min_fraction, args.device)
        side = np.concatenate([np.asarray(img), clusters], axis=1)
        out = osp.join(args.out, osp.splitext(name)[0] + '_kmeans.png')
        Image.fromarray(side).save(out)
        print(f'{name} -> {out}')


if __name__ == '__main__':
    main()
