# Copyright (c) mmclipself contributors. All rights reserved.
from typing import Dict, Tuple, Union

import torch
import torch.nn as nn
from torch import Tensor

from mmclipself.registry import MODELS
from ..layers import resize_pos_embed, split_packed_attention, split_qkv_keys
from ..utils.clip_checkpoint import strip_prefix
from .base_clip_vit import BaseCLIPViT


@MODELS.register_module()
class OpenAICLIPViT(BaseCLIPViT):
    """OpenAI CLIP ViT image tower (open_clip's ``VisionTransformer``).

    The tower is open_clip's module with QuickGELU (OpenAI's activation), so
    OpenAI, open_clip and CLIPSelf checkpoints load with their own key
    names. The forward is ours: position embeddings are resized for any grid
    (bicubic, no antialias, as the CLIPSelf release) and the last block can
    run value-only for the dense map (paper §3.1): ``v_proj`` followed by
    the output projection.

    Every block's ``nn.MultiheadAttention`` is replaced by
    :class:`SplitQKVAttention` (same numbers, SDPA) with separate
    ``attn.q_proj``, ``attn.k_proj``, ``attn.v_proj`` and ``attn.out_proj``,
    so q, k and v can train separately (Cat-Seg tunes only q and v,
    segmentation facts §2.1). Files with open_clip's packed
    ``attn.in_proj_weight``/``in_proj_bias`` (OpenAI, open_clip, CLIPSelf,
    older mmclipself checkpoints) load strictly; :func:`tower_to_open_clip`
    packs them back on export.

    Args:
        arch: ``'vit-b16'``, ``'vit-l14'``, ``'vit-l14-336'`` or a dict with
            ``image_size, patch_size, width, layers, heads, output_dim``.
        pretrained: Weights to load in :meth:`init_weights`: an OpenAI
            (TorchScript or state dict), open_clip or CLIPSelf file, or
            ``open_clip://ViT-B-16-quickgelu/openai`` style tags. Strict.
        cache_dir: open_clip download cache for ``open_clip://`` sources.
        **kwargs: :class:`BaseCLIPViT` arguments.
    """

    arch_zoo = {
        'vit-b16':
        dict(
            image_size=224,
            patch_size=16,
            width=768,
            layers=12,
            heads=12,
            output_dim=512),
        'vit-l14':
        dict(
            image_size=224,
            patch_size=14,
            width=1024,
            layers=24,
            heads=16,
            output_dim=768),
        'vit-l14-336':
        dict(
            image_size=336,
            patch_size=14,
            width=1024,
            layers=24,
            heads=16,
            output_dim=768),
    }

    def __init__(self, arch: Union[str, dict] = 'vit-b16', **kwargs) -> None:
        super().__init__(**kwargs)
        from open_clip.transformer import QuickGELU, VisionTransformer
        if isinstance(arch, str):
            if arch not in self.arch_zoo:
                raise ValueError(f'unknown OpenAI CLIP arch {arch!r}; choose '
                                 f'from {sorted(self.arch_zoo)} or pass a '
                                 'dict')
            spec = dict(self.arch_zoo[arch])
        else:
            spec = dict(arch)
        self.visual = VisionTransformer(
            image_size=spec['image_size'],
            patch_size=spec['patch_size'],
            width=spec['width'],
            layers=spec['layers'],
            heads=spec['heads'],
            mlp_ratio=spec.get('mlp_ratio', 4.0),
            output_dim=spec['output_dim'],
            act_layer=QuickGELU)
        split_packed_attention(self.visual.transformer)
        self._grid = (spec['image_size'] // spec['patch_size'], ) * 2
        self._patch = spec['patch_size']
        self.arch = arch
        self._freeze()

    @property
    def num_layers(self) -> int:
        return len(self.visual.transformer.resblocks)

    @property
    def patch_size(self) -> int:
        return self._patch

    @property
    def embed_dim(self) -> int:
        return self.visual.conv1.out_channels

    @property
    def output_dim(self) -> int:
        return self.visual.proj.shape[1]

    def tower(self) -> nn.Module:
        return self.visual

    def blocks(self) -> nn.ModuleList:
        return self.visual.transformer.resblocks

    def _embed(self, x: Tensor) -> Tuple[Tensor, Tuple[int, int], Dict]:
        v = self.visual
        x = v.conv1(x)
        b, c, h, w = x.shape
        x = x.reshape(b, c, h * w).transpose(1, 2)
        cls = v.class_embedding.to(x.dtype).view(1, 1, c).expand(b, -1, -1)
        pos = resize_pos_embed(v.positional_embedding, self._grid, (h, w))
        x = torch.cat([cls, x], dim=1) + pos.to(x.dtype)
        x = v.ln_pre(v.patch_dropout(x))
        return x, (h, w), {}

    def _block(self, index: int, x: Tensor) -> Tensor:
        return self.visual.transformer.resblocks[index](x)

    def _value_only_block(self, x: Tensor) -> Tensor:
        blk = self.visual.transformer.resblocks[-1]
        v = blk.attn.v_proj(blk.ln_1(x))
        x = self._dense_skip(x) + blk.ls_1(blk.attn.out_proj(v))
        return x + blk.ls_2(blk.mlp(blk.ln_2(x)))

    def _extra_block(self, index: int, x: Tensor, extra: Tensor,
                     mask: Tensor) -> Tensor:
        blk = self.visual.transformer.resblocks[index]
        kv = blk.ln_1(x)
        y = blk.attn.attend(blk.ln_1(extra), kv, kv, mask)
        extra = extra + blk.ls_1(y)
        return extra + blk.ls_2(blk.mlp(blk.ln_2(extra)))

    def _final_norm(self, x: Tensor) -> Tensor:
        return self.visual.ln_post(x)

    def _project(self, x: Tensor) -> Tensor:
        return x @ self.visual.proj

    # ------------------------------------------------------------------
    # weights
    # ------------------------------------------------------------------
    def convert_state_dict(self, state: Dict[str, Tensor],
                           source: str) -> Dict[str, Tensor]:
        """Keep the image-tower keys of OpenAI/open_clip/CLIPSelf files.

        Packed ``attn.in_proj_{weight,bias}`` are split into
        ``attn.{q,k,v}_proj``.
        """
        if any(k.startswith('visual.') for k in state):
            return split_qkv_keys(strip_prefix(state, 'visual.'))
        if 'conv1.weight' in state:
            return split_qkv_keys(state)
        raise KeyError(f'{source}: not an OpenAI CLIP ViT checkpoint; first '
                       f'keys: {list(state)[:5]}')
