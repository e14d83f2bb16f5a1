# Copyright (c) mmclipself contributors. All rights reserved.
"""Multi-head attention with separate q/k/v projections.

open_clip's ``ResidualAttentionBlock`` uses ``nn.MultiheadAttention``, whose
query, key and value projections are packed into one ``in_proj_weight`` /
``in_proj_bias``. Training only some of them (Cat-Seg tunes q and v,
segmentation facts §2.1) needs them as separate parameters.
:class:`SplitQKVAttention` is a drop-in replacement with ``q_proj``,
``k_proj``, ``v_proj`` and ``out_proj`` ``nn.Linear`` layers; packed
checkpoints (open_clip, OpenAI, CLIPSelf, older mmclipself files) load into
it through a ``load_state_dict`` pre-hook (and :func:`split_qkv_keys` for
whole state dicts), and :func:`pack_qkv_keys` writes the packed layout back
for export.
"""
from collections import OrderedDict
from typing import Dict, Mapping, Optional, Sequence, Tuple

import torch
import torch.nn as nn
import torch.nn.functional as F
from torch import Tensor

_PROJ = ('q_proj', 'k_proj', 'v_proj')


class SplitQKVAttention(nn.Module):
    """``nn.MultiheadAttention`` with separate q/k/v ``nn.Linear`` layers.

    Computes exactly what ``nn.MultiheadAttention`` (no ``kdim``/``vdim``,
    no ``bias_k``/``bias_v``, no zero attention) computes, with
    ``F.scaled_dot_product_attention``. :meth:`forward` takes
    ``nn.MultiheadAttention``'s arguments and mask conventions (a boolean
    ``attn_mask``/``key_padding_mask`` is True where attention is *not*
    allowed; a float mask is added to the logits) and returns
    ``(output, weights or None)``.

    State-dict keys are ``q_proj.weight``, ``q_proj.bias``, ...,
    ``out_proj.weight``, ``out_proj.bias``; packed ``in_proj_weight`` /
    ``in_proj_bias`` keys are split into them when loading.

    Args:
        embed_dim: Token width.
        num_heads: Number of heads (must divide ``embed_dim``).
        bias: Biases on the four projections. Defaults to True.
        dropout: Dropout on the attention weights while training.
        batch_first: Inputs are (B, L, C); else (L, B, C). Defaults to True
            (as open_clip's blocks).
    """

    def __init__(self,
                 embed_dim: int,
                 num_heads: int,
                 bias: bool = True,
                 dropout: float = 0.,
                 batch_first: bool = True) -> None:
        super().__init__()
        if embed_dim % num_heads:
            raise ValueError(f'embed_dim {embed_dim} is not divisible by '
                             f'num_heads {num_heads}')
        self.embed_dim = embed_dim
        self.num_heads = num_heads
        self.head_dim = embed_dim // num_heads
        self.dropout = dropout
        self.batch_first = batch_first
        self.q_proj = nn.Linear(embed_dim, embed_dim, bias=bias)
        self.k_proj = nn.Linear(embed_dim, embed_dim, bias=bias)
        self.v_proj = nn.Linear(embed_dim, embed_dim, bias=bias)
        self.out_proj = nn.Linear(embed_dim, embed_dim, bias=bias)
        self.register_load_state_dict_pre_hook(_split_packed_keys)

    @classmethod
    def from_mha(cls, mha: nn.MultiheadAttention) -> 'SplitQKVAttention':
        """A copy of ``mha`` (weights, dtype, device, ``requires_grad``).

        Raises:
            ValueError: ``mha`` uses ``kdim``/``vdim``, ``bias_k``/``bias_v``
                or ``add_zero_attn``, which this module does not implement.
        """
        if not mha._qkv_same_embed_dim or mha.bias_k is not None or \
                mha.add_zero_attn:
            raise ValueError('SplitQKVAttention replaces only plain '
                             'nn.MultiheadAttention (no kdim/vdim, bias_k/'
                             'bias_v or add_zero_attn)')
        new = cls(
            mha.embed_dim,
            mha.num_heads,
            bias=mha.in_proj_bias is not None,
            dropout=mha.dropout,
            batch_first=mha.batch_first)
        new.to(
            device=mha.in_proj_weight.device, dtype=mha.in_proj_weight.dtype)
        with torch.no_grad():
            for name, w in zip(_PROJ, mha.in_proj_weight.chunk(3)):
                getattr(new, name).weight.copy_(w)
            if mha.in_proj_bias is not None:
                for name, b in zip(_PROJ, mha.in_proj_bias.chunk(3)):
                    getattr(new, name).bias.copy_(b)
            new.out_proj.weight.copy_(mha.out_proj.weight)
            if mha.out_proj.bias is not None:
                new.out_proj.bias.copy_(mha.out_proj.bias)
        for name in _PROJ:
            getattr(new, name).requires_grad_(mha.in_proj_weight.requires_grad)
        new.out_proj.requires_grad_(mha.out_proj.weight.requires_grad)
        new.train(mha.training)
        return new

    # forward and the methods it calls are TorchScript-compatible (OpenAI
    # ships its CLIP weights as TorchScript archives)
    def _heads(self, x: Tensor) -> Tensor:
        return x.reshape(x.shape[0], x.shape[1], self.num_heads,
                         self.head_dim).transpose(1, 2)

    def _merge_heads(self, x: Tensor) -> Tensor:
        return x.transpose(1, 2).reshape(x.shape[0], x.shape[2],
                                         self.embed_dim)

    def attend(self,
               query: Tensor,
               key: Tensor,
               value: Tensor,
               mask: Optional[Tensor] = None) -> Tensor:
        """Batch-first attention with an SDPA-convention mask.

        Args:
            query: (B, L, C) tokens whose queries are computed.
            key: (B, S, C) tokens whose keys are computed.
            value: (B, S, C) tokens whose values are computed.
            mask: Broadcastable to (B, heads, L, S): boolean, True where
                attention is *allowed* (``F.scaled_dot_product_attention``'s
                convention), or float, added to the logits.

        Returns:
            (B, L, C) after the output projection.
        """
        q = self._heads(self.q_proj(query))
        k = self._heads(self.k_proj(key))
        v = self._heads(self.v_proj(value))
        dropout_p = self.dropout if self.training else 0.
        out = F.scaled_dot_product_attention(
            q, k, v, attn_mask=mask, dropout_p=dropout_p)
        return self.out_proj(self._merge_heads(out))

    @staticmethod
    def _additive(mask: Tensor, dtype: torch.dtype) -> Tensor:
        """MHA mask (bool: True = blocked; float: added) -> float mask."""
        if mask.dtype == torch.bool:
            return torch.zeros(
                mask.shape, dtype=dtype,
                device=mask.device).masked_fill_(mask, float('-inf'))
        return mask.to(dtype)

    def _sdpa_mask(self, attn_mask: Optional[Tensor],
                   key_padding_mask: Optional[Tensor], batch: int,
                   dtype: torch.dtype) -> Optional[Tensor]:
        """``nn.MultiheadAttention``'s two masks as one additive mask."""
        mask: Optional[Tensor] = None
        if attn_mask is not None:
            mask = self._additive(attn_mask, dtype)
            if mask.dim() == 3:  # (B * heads, L, S)
                mask = mask.reshape(batch, self.num_heads, mask.shape[1],
                                    mask.shape[2])
            elif mask.dim() != 2:
                raise ValueError('attn_mask must be (L, S) or '
                                 '(B * num_heads, L, S), got shape ' +
                                 str(attn_mask.shape))
        if key_padding_mask is not None:
            pad = self._additive(key_padding_mask, dtype)[:, None, None, :]
            mask = pad if mask is None else mask + pad
        return mask

    def forward(self,
                query: Tensor,
                key: Tensor,
                value: Tensor,
                key_padding_mask: Optional[Tensor] = None,
                need_weights: bool = True,
                attn_mask: Optional[Tensor] = None,
                average_attn_weights: bool = True,
                is_causal: bool = False) -> Tuple[Tensor, Optional[Tensor]]:
        """``nn.MultiheadAttention.forward`` with the same arguments.

        Returns:
            The output (batch-first if ``batch_first``) and, if
            ``need_weights``, the attention weights (averaged over heads if
            ``average_attn_weights``), else None.
        """
        if is_causal and attn_mask is None:
            raise RuntimeError('is_causal is a hint that attn_mask is the '
                               'causal mask; pass attn_mask as well')
        if not self.batch_first:
            query = query.transpose(0, 1)
            key = key.transpose(0, 1)
            value = value.transpose(0, 1)
        mask = self._sdpa_mask(attn_mask, key_padding_mask, query.shape[0],
                               query.dtype)
        weights: Optional[Tensor] = None
        if need_weights:
            q = self._heads(self.q_proj(query)) * self.head_dim**-0.5
            logits = q @ self._heads(self.k_proj(key)).transpose(-2, -1)
            if mask is not None:
                logits = logits + mask
            attn = F.dropout(logits.softmax(-1), self.dropout, self.training)
            out = self.out_proj(
                self._merge_heads(attn @ self._heads(self.v_proj(value))))
            weights = attn.mean(dim=1) if average_attn_weights else attn
        else:
            out = self.attend(query, key, value, mask)
        if not self.batch_first:
            out = out.transpose(0, 1)
        return out, weights

    def extra_repr(self) -> str:
        return (f'embed_dim={self.embed_dim}, num_heads={self.num_heads}, '
                f'batch_first={self.batch_first}')


def _split_packed_keys(module: SplitQKVAttention, state_dict: Dict[str,
                                                                   Tensor],
                       prefix: str, local_metadata, strict, missing_keys,
                       unexpected_keys, error_msgs) -> None:
    """Load pre-hook: ``in_proj_{weight,bias}`` -> ``{q,k,v}_proj.*``."""
    for kind in ('weight', 'bias'):
        packed_key = prefix + f'in_proj_{kind}'
        if packed_key not in state_dict:
            continue
        split_keys = [f'{prefix}{name}.{kind}' for name in _PROJ]
        present = [k for k in split_keys if k in state_dict]
        if present:
            error_msgs.append(f'both {packed_key} and {present} are given; '
                              'expected one layout')
            continue
        parts = _split3(state_dict[packed_key])
        if parts is None:
            continue  # left as an unexpected key with its own error
        del state_dict[packed_key]
        state_dict.update(zip(split_keys, parts))


def _split3(packed: Tensor) -> Optional[Tuple[Tensor, ...]]:
    if packed.dim() < 1 or packed.shape[0] % 3:
        return None
    return packed.chunk(3)


def split_qkv_keys(
        state: Mapping[str, Tensor],
        prefixes: Optional[Sequence[str]] = None) -> Dict[str, Tensor]:
    """Split packed ``*in_proj_{weight,bias}`` into ``*{q,k,v}_proj.*``.

    What the load hook of :class:`SplitQKVAttention` does, for a whole
    state dict (e.g. to compare keys before a strict load).

    Args:
        state: A state dict.
        prefixes: Only keys starting with one of these are split; None
            splits all.

    Returns:
        A new ordered state dict; the split keys take the packed key's
        place.
    """
    out = OrderedDict()
    packed_names = ('in_proj_weight', 'in_proj_bias')
    for key, value in state.items():
        base, name = key[:key.rfind('.') + 1], key.rpartition('.')[2]
        selected = prefixes is None or key.startswith(tuple(prefixes))
        parts = _split3(value) if selected and name in packed_names else None
        if parts is None:
            out[key] = value
            continue
        kind = name[len('in_proj_'):]
        for proj, part in zip(_PROJ, parts):
            out[f'{base}{proj}.{kind}'] = part
    return out


def pack_qkv_keys(
        state: Mapping[str, Tensor],
        prefixes: Optional[Sequence[str]] = None) -> Dict[str, Tensor]:
    """Pack ``*q_proj/k_proj/v_proj.{weight,bias}`` into ``in_proj_*``.

    The inverse of :func:`split_qkv_keys`: the packed tensors take the
    place of the ``q_proj`` keys, so a split OpenAI tower exports in
    open_clip's key order.

    Args:
        state: A state dict.
        prefixes: Only keys starting with one of these are packed (others,
            e.g. timm EVA02 blocks whose own attention has separate
            ``q_proj``/``k_proj``/``v_proj``, pass through). None packs every
            complete q/k/v triple.

    Returns:
        A new ordered state dict.

    Raises:
        KeyError: A ``q_proj`` key to pack has no matching ``k_proj`` or
            ``v_proj`` key.
    """

    def split_key(key):
        """(stem, proj, leaf) of a ``stem + proj + '.' + leaf`` key."""
        base, _, leaf = key.rpartition('.')
        head, _, proj = base.rpartition('.')
        if leaf in ('weight', 'bias') and proj in _PROJ and (
                prefixes is None or key.startswith(tuple(prefixes))):
            return (head + '.' if head else ''), proj, leaf
        return None

    out, packed = OrderedDict(), set()
    for key, value in state.items():
        parts = split_key(key)
        if parts is None:
            out[key] = value
        elif parts[1] == 'q_proj':
            stem, _, leaf = parts
            keys = [f'{stem}{name}.{leaf}' for name in _PROJ]
            missing = [k for k in keys if k not in state]
            if missing:
                raise KeyError(f'cannot pack {key}: missing {missing}')
            out[f'{stem}in_proj_{leaf}'] = torch.cat([state[k] for k in keys])
            packed.update(keys)
    orphans = [k for k in state if split_key(k) and k not in packed]
    if orphans:
        raise KeyError(f'cannot pack {orphans[:5]}: no matching q_proj key')
    return out


def split_packed_attention(module: nn.Module) -> nn.Module:
    """Replace every ``nn.MultiheadAttention`` in ``module`` (in place).

    Each one becomes a :class:`SplitQKVAttention` with the same weights;
    ``module`` itself is returned (or its replacement if it is one).
    """
    if isinstance(module, nn.MultiheadAttention):
        return SplitQKVAttention.from_mha(module)
    for name, child in list(module.named_children()):
        if isinstance(child, nn.MultiheadAttention):
            setattr(module, name, SplitQKVAttention.from_mha(child))
        else:
            split_packed_attention(child)
    return module
