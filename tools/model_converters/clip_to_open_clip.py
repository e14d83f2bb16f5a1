# Copyright (c) mmclipself contributors. All rights reserved.
"""Convert CLIP image-tower weights to open_clip format, checking them.

Reads any layout the mmclipself towers accept (original EVA-CLIP
``EVA02_CLIP_*.pt``, official CLIPSelf release checkpoints, timm, OpenAI
TorchScript or state dicts, open_clip), loads it strictly into the named
architecture (listing missing/unexpected keys on mismatch) and writes the
image tower as ``visual.trunk.*`` (EVA02) or ``visual.*`` (OpenAI).

Examples:
    python tools/model_converters/clip_to_open_clip.py \\
        eva_vitb16_coco_clipself_patches.pt eva02-b16 out.pth
    python tools/model_converters/clip_to_open_clip.py ViT-B-16.pt vit-b16 \\
        openai_vitb16.pth
"""
import argparse

from mmclipself.models import EVA02CLIPViT, OpenAICLIPViT
from mmclipself.models.utils import save_open_clip_tower, tower_to_open_clip
from mmclipself.models.utils.clip_checkpoint import CheckpointReadError

ARCHS = {
    **{
        a: EVA02CLIPViT
        for a in EVA02CLIPViT.arch_zoo
    },
    **{
        a: OpenAICLIPViT
        for a in OpenAICLIPViT.arch_zoo
    }
}


def convert(src: str, tower, out: str) -> int:
    """Load ``src`` strictly into ``tower`` and save it in open_clip format.

    Returns:
        The number of tensors written.
    """
    tower.load_pretrained(src)
    state = tower_to_open_clip(tower.state_dict())
    save_open_clip_tower(state, out, source=src, format='open_clip')
    return len(state)


def main() -> None:
    archs = ARCHS
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('src', help='source checkpoint')
    parser.add_argument('arch', choices=sorted(archs))
    parser.add_argument('out', help='output .pth')
    args = parser.parse_args()
    n = convert(args.src, archs[args.arch](arch=args.arch), args.out)
    print(f'wrote {n} tensors ({args.arch}) to {args.out}')


if __name__ == '__main__':
    try:
        main()
    except CheckpointReadError as e:  # one line; PyTorch's error is chained
        raise SystemExit(f'error: {e}')
