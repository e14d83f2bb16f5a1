# Copyright (c) mmclipself contributors. All rights reserved.
"""Tiny CLIP towers for CPU tests (random weights)."""

#: A 3-block EVA02 with the EVA02-CLIP structure (SwiGLU + sub-LN, RoPE with
#: a 16x16 reference grid as the release), 8x8 patches, 4x4 pretrain grid.
TINY_EVA = dict(
    img_size=32,
    patch_size=8,
    embed_dim=64,
    depth=3,
    num_heads=1,
    qkv_fused=False,  # separate q/k/v projections, as EVA02-CLIP
    mlp_ratio=4 * 2 / 3,
    swiglu_mlp=True,
    scale_mlp=True,
    scale_attn_inner=True,
    use_rot_pos_emb=True,
    ref_feat_shape=(16, 16),
    num_classes=16)
TINY_OPENAI = dict(
    image_size=32, patch_size=8, width=32, layers=3, heads=2, output_dim=16)


def tiny_eva(**kwargs):
    """A random 3-block EVA02-CLIP-shaped tower."""
    from mmclipself.models import EVA02CLIPViT
    return EVA02CLIPViT(arch=TINY_EVA, **kwargs)


def tiny_openai(**kwargs):
    """A random 3-block OpenAI-CLIP-shaped tower."""
    from mmclipself.models import OpenAICLIPViT
    return OpenAICLIPViT(arch=TINY_OPENAI, **kwargs)


def tiny_eva_fused_qkv(**kwargs):
    """timm's fused-qkv EVA layout (q_bias/v_bias parameters)."""
    from mmclipself.models import EVA02CLIPViT
    return EVA02CLIPViT(arch=dict(TINY_EVA, qkv_fused=True), **kwargs)


def write_eva_open_clip(path, seed: int = 0) -> str:
    """A random tiny EVA02 tower saved in open_clip layout.

    ``visual.trunk.*`` keys, as open_clip and CLIPSelf exports write them;
    usable as ``pretrained`` of an ``EVA02CLIPViT(arch=TINY_EVA)``.

    Returns:
        ``path`` as a string.
    """
    import torch
    torch.manual_seed(seed)
    tower = tiny_eva()
    torch.save(
        {
            'visual.trunk.' + k: v
            for k, v in tower.trunk.state_dict().items()
        }, str(path))
    return str(path)
