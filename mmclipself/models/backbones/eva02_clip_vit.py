# Copyright (c) mmclipself contributors. All rights reserved.
from collections import OrderedDict
from typing import Dict, Tuple, Union

import torch
import torch.nn as nn
import torch.nn.functional as F
from torch import Tensor

from mmclipself.registry import MODELS
from ..layers import resize_pos_embed
from ..utils.clip_checkpoint import strip_prefix
from .base_clip_vit import BaseCLIPViT


@MODELS.register_module()
class EVA02CLIPViT(BaseCLIPViT):
    """EVA02-CLIP image tower on timm's ``Eva``, at any input size.

    The tower is timm's EVA02 built with ``dynamic_img_size=True`` so rotary
    embeddings are recomputed for every grid. timm's RoPE grid is
    ``t_i = i / N * 16`` per axis, the same formula as the CLIPSelf release
    (``arange(N) / N * pt_seq_len``, ``pt_seq_len=16``); absolute position
    embeddings are resized bicubically without antialiasing as the release
    does (see :func:`resize_pos_embed`). The projection head is timm's
    ``head`` (``Linear(768, 512)`` for B/16, ``Linear(1024, 768)`` for
    L/14-336, with bias). Attention uses timm's fused
    ``F.scaled_dot_product_attention`` path.

    Args:
        arch: ``'eva02-b16'``, ``'eva02-l14-336'`` or a dict of keyword
            arguments for ``timm.models.eva.Eva`` (tiny test towers).
        pretrained: Weights to load in :meth:`init_weights`: a file in
            open_clip (``visual.trunk.*``), timm, original EVA-CLIP or
            CLIPSelf-release format, or ``open_clip://MODEL/TAG``. Loading is
            strict.
        cache_dir: open_clip download cache for ``open_clip://`` sources.
        **kwargs: :class:`BaseCLIPViT` arguments (``out_type``,
            ``out_indices``, ``train_blocks``, ``train_patterns``,
            ``with_cp``, ``normalize_dense``, ``window_attn``,
            ``init_cfg``).
    """

    arch_zoo = {
        'eva02-b16':
        dict(timm_name='eva02_base_patch16_clip_224', num_classes=512),
        'eva02-l14-336':
        dict(timm_name='eva02_large_patch14_clip_336', num_classes=768),
    }

    def __init__(self, arch: Union[str, dict] = 'eva02-b16', **kwargs) -> None:
        super().__init__(**kwargs)
        import timm
        from timm.models.eva import Eva
        if isinstance(arch, str):
            if arch not in self.arch_zoo:
                raise ValueError(f'unknown EVA02-CLIP arch {arch!r}; choose '
                                 f'from {sorted(self.arch_zoo)} or pass a '
                                 'dict of timm Eva arguments')
            spec = self.arch_zoo[arch]
            self.trunk = timm.create_model(
                spec['timm_name'],
                pretrained=False,
                num_classes=spec['num_classes'],
                global_pool='token',
                dynamic_img_size=True)
        else:
            self.trunk = Eva(
                **dict(arch, dynamic_img_size=True, global_pool='token'))
        if not isinstance(self.trunk.head, nn.Linear):
            raise ValueError('the EVA02-CLIP tower needs a projection head: '
                             'set num_classes to the CLIP embedding width')
        self.arch = arch
        self._freeze()

    @property
    def num_layers(self) -> int:
        return len(self.trunk.blocks)

    @property
    def patch_size(self) -> int:
        return self.trunk.patch_embed.patch_size[0]

    @property
    def embed_dim(self) -> int:
        return self.trunk.embed_dim

    @property
    def output_dim(self) -> int:
        return self.trunk.head.out_features

    def tower(self) -> nn.Module:
        return self.trunk

    def blocks(self) -> nn.ModuleList:
        return self.trunk.blocks

    def _embed(self, x: Tensor) -> Tuple[Tensor, Tuple[int, int], Dict]:
        trunk = self.trunk
        x = trunk.patch_embed(x)  # (B, h, w, C): dynamic size -> NHWC
        b, h, w, c = x.shape
        pos_embed = resize_pos_embed(trunk.pos_embed,
                                     trunk.patch_embed.grid_size, (h, w),
                                     trunk.num_prefix_tokens)
        x = torch.cat(
            [trunk.cls_token.expand(b, -1, -1),
             x.reshape(b, h * w, c)], dim=1) + pos_embed
        x = trunk.norm_pre(trunk.pos_drop(x))
        rope = None
        if trunk.rope is not None:
            rope = trunk.rope.get_embed(shape=(h, w))
        return x, (h, w), dict(rope=rope)

    def _window_kwargs(self, kwargs: Dict, grid: Tuple[int, int],
                       batch: int) -> Dict:
        rope = kwargs.get('rope')
        if rope is None:
            return kwargs
        # the RoPE table follows its tokens into the windows: (B*W, 1, n, D)
        rows, cols = self.window_attn
        h, w = grid
        rope = rope.reshape(rows, h // rows, cols, w // cols, -1)
        rope = rope.permute(0, 2, 1, 3,
                            4).reshape(rows * cols, 1,
                                       (h // rows) * (w // cols), -1)
        return dict(kwargs, rope=rope.repeat(batch, 1, 1, 1))

    def _block(self, index: int, x: Tensor, rope=None) -> Tensor:
        return self.trunk.blocks[index](x, rope=rope)

    def _value_only_block(self, x: Tensor, rope=None) -> Tensor:
        # v = v_proj(norm1(x)); y = x + proj(inner_norm(v)); z = y + FFN(y)
        blk = self.trunk.blocks[-1]
        attn = blk.attn
        if getattr(attn, 'qkv', None) is not None:  # fused-qkv variants
            dim = attn.qkv.weight.shape[1]
            v_bias = getattr(attn, 'v_bias', None)
            v = nn.functional.linear(
                blk.norm1(x), attn.qkv.weight[2 * dim:], v_bias)
        else:
            v = attn.v_proj(blk.norm1(x))
        y = attn.proj(attn.norm(v))
        if blk.gamma_1 is not None:
            y = blk.gamma_1 * y
        x = self._dense_skip(x) + y
        y = blk.mlp(blk.norm2(x))
        if blk.gamma_2 is not None:
            y = blk.gamma_2 * y
        return x + y

    def _extra_block(self,
                     index: int,
                     x: Tensor,
                     extra: Tensor,
                     mask: Tensor,
                     rope=None) -> Tensor:
        # EvaBlock.forward / EvaAttention.forward with the queries taken
        # from ``extra`` and the keys/values from the image tokens ``x``
        from timm.layers import apply_rot_embed_cat
        from timm.models.eva import EvaAttention
        blk = self.trunk.blocks[index]
        attn = blk.attn
        if not isinstance(attn, EvaAttention):
            raise NotImplementedError(
                'extra tokens support timm EvaAttention blocks, got '
                f'{type(attn).__name__}')
        hx, he = blk.norm1(x), blk.norm1(extra)
        if attn.qkv is not None:  # fused layout: slices of the weight
            dim = attn.qkv.weight.shape[0] // 3
            w_q, w_k, w_v = attn.qkv.weight.split(dim)
            b_q = b_k = b_v = None
            if attn.q_bias is not None:
                b_q, b_k, b_v = attn.q_bias, attn.k_bias, attn.v_bias
            q = F.linear(he, w_q, b_q)
            k, v = F.linear(hx, w_k, b_k), F.linear(hx, w_v, b_v)
        else:
            q, k, v = attn.q_proj(he), attn.k_proj(hx), attn.v_proj(hx)

        def heads(t):
            return t.reshape(t.shape[0], t.shape[1], attn.num_heads,
                             -1).transpose(1, 2)

        q, k, v = attn.q_norm(heads(q)), attn.k_norm(heads(k)), heads(v)
        if rope is not None:  # the image keys as the block rotates them
            npt = attn.num_prefix_tokens
            half = getattr(attn, 'rotate_half', False)
            k = torch.cat([
                k[:, :, :npt],
                apply_rot_embed_cat(k[:, :, npt:], rope, half=half)
            ],
                          dim=2).type_as(v)
        y = F.scaled_dot_product_attention(
            q,
            k,
            v,
            attn_mask=mask,
            dropout_p=attn.attn_drop.p if self.training else 0.)
        y = attn.norm(y.transpose(1, 2).reshape(*extra.shape[:2], -1))
        if attn.gate is not None:
            y = y * attn.gate(he).sigmoid()
        y = attn.proj_drop(attn.proj(y))
        if blk.gamma_1 is not None:
            y = blk.gamma_1 * y
        extra = extra + blk.drop_path1(y)
        y = blk.mlp(blk.norm2(extra))
        if blk.gamma_2 is not None:
            y = blk.gamma_2 * y
        return extra + blk.drop_path2(y)

    def _final_norm(self, x: Tensor) -> Tensor:
        return self.trunk.fc_norm(self.trunk.norm(x))

    def _project(self, x: Tensor) -> Tensor:
        return self.trunk.head(x)

    # ------------------------------------------------------------------
    # weights
    # ------------------------------------------------------------------
    def convert_state_dict(self, state: Dict[str, Tensor],
                           source: str) -> Dict[str, Tensor]:
        """Convert any supported EVA02-CLIP layout to this trunk's keys.

        Args:
            state: Flat state dict as read from the file.
            source: Name of the file, for error messages.

        Returns:
            timm ``Eva`` keys (no prefix).
        """
        from timm.models.eva import checkpoint_filter_fn
        if any(k.startswith('visual.trunk.') for k in state):
            return strip_prefix(state, 'visual.trunk.')
        if any(k.startswith('trunk.') for k in state):
            return strip_prefix(state, 'trunk.')
        if any(k.startswith('visual.') for k in state):
            # Original EVA-CLIP / CLIPSelf release names: timm's own filter
            # renames them (inner_attn_ln -> attn.norm, w1/w2/w3 ->
            # fc1_g/fc1_x/fc2, q_bias -> q_proj.bias, ...) and drops the
            # text tower and the RoPE tables, which timm recomputes.
            if not any(k.startswith('visual.blocks.') for k in state):
                raise KeyError(f'{source}: no EVA02 image-tower keys found '
                               '(expected visual.blocks.* or '
                               'visual.trunk.*)')
            return OrderedDict(checkpoint_filter_fn(state, self.trunk))
        if any(k.startswith('blocks.') for k in state):
            return OrderedDict(state)
        raise KeyError(f'{source}: not an EVA02-CLIP checkpoint; first keys: '
                       f'{list(state)[:5]}')
