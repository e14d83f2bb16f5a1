# Copyright (c) mmclipself contributors. All rights reserved.
from fnmatch import fnmatchcase
from typing import Dict, List, Optional, Sequence, Tuple, Union

import torch
import torch.nn as nn
import torch.nn.functional as F
from mmengine.logging import MMLogger
from mmengine.model import BaseModule
from torch import Tensor
from torch.utils.checkpoint import checkpoint

from mmclipself.utils.typing_utils import OptMultiConfig
from ..utils.clip_checkpoint import (load_state_dict_file, load_strict,
                                     resolve_pretrained)
from ..utils.frozen import record_weights
from ..utils.trainability import set_trainable


class BaseCLIPViT(BaseModule):
    """Common interface of the CLIP ViT image towers.

    Subclasses wrap a concrete tower (timm's EVA02 ``Eva``, open_clip's
    OpenAI ``VisionTransformer``) and implement six small hooks:
    :meth:`_embed`, :meth:`_block`, :meth:`_value_only_block`,
    :meth:`_extra_block`, :meth:`_final_norm` and :meth:`_project`. On top
    of them this class provides, for any input whose sides are multiples of
    the patch size:

    - ``'image'``: the image embedding, the class token through the final
      norm and the projection head (paper §3.1, ``x_image``);
    - ``'dense'``: the dense CLIP map of paper §3.1: every block runs as
      usual except the last, which keeps its value projection, output
      projection, norms and FFN but drops query-key attention; the patch
      tokens then go through the final norm and the projection head and are
      L2-normalised per location (release: normalise, then pool);
    - ``'featmaps'``: the raw outputs of the blocks in ``out_indices``
      (class token dropped, no final norm) as (B, C, h, w) maps, the
      F-ViT taps (paper A.3). A tap at the last block is taken from the
      value-only block, as in the release.

    It also offers timm's :meth:`forward_intermediates`, extra query tokens
    under an attention mask in every block (:meth:`forward_tokens`, mask
    class tokens of MaskCLIP / ODISE / MasQCLIP) with their readout
    :meth:`embed_tokens`, and trainability by parameter-name pattern
    (``train_patterns``).

    Args:
        out_type: What :meth:`forward` returns: ``'dense'``, ``'image'`` or
            ``'featmaps'``. The ``forward_*`` methods give each directly.
        out_indices: Block indices tapped for ``'featmaps'``; negative
            indices count from the end.
        train_blocks: Blocks whose parameters train: ``'all'``, an int ``k``
            for the last ``k`` blocks, or a list of indices; ``0`` / ``[]``
            freezes the tower. Patch embedding, position embeddings, class
            token, final norm and projection head always stay frozen, as in
            the release (``--lock-image-unlocked-groups``, reference facts
            §2); paper Table 1b ablates the number of trained blocks.
        train_patterns: Parameter-name globs of what trains, replacing
            ``train_blocks`` when given (see :func:`set_trainable` for the
            syntax; names are this module's, e.g.
            ``'visual.transformer.resblocks.*.attn.[qv]_proj.*'`` or
            ``'trunk.blocks.*.attn.v_proj.*'``). Everything else is frozen;
            non-block parameters train only if a pattern names them (e.g.
            ``'visual.positional_embedding'``, as Cat-Seg 2023 trains it,
            segmentation facts §2.1). A pattern matching nothing is an
            error; ``[]`` freezes the tower.
        with_cp: Activation checkpointing of the trained blocks (saves memory
            at the cost of a second forward).
        normalize_dense: L2-normalise the dense map per location. Defaults
            to True.
        dense_residual: Skip connection of the value-only last block of
            the dense path: ``'token'`` (default) adds each token's own
            input, as CLIPSelf distils it and Cat-Seg 2023 runs it;
            ``'cls'`` adds the class token's input to every token, as the
            Cat-Seg CVPR'24 release does (segmentation facts §1.1).
        window_attn: Optional (rows, cols) number of attention windows, e.g.
            ``(4, 4)``: every block (but the value-only last block of the
            dense path, which has no attention) attends within each window
            only. The class token is replicated into every window and the
            windows' class tokens are averaged when merging (paper Table 7,
            "WindowAttn"). The token grid must divide into the windows.
        pretrained: CLIP weights loaded strictly by :meth:`init_weights`: a
            file in one of the layouts the subclass converts, or
            ``open_clip://MODEL/TAG``.
        cache_dir: open_clip download cache for ``open_clip://`` sources.
        init_cfg: MMEngine initialisation config, used when no
            ``pretrained`` is given.
    """

    OUT_TYPES = ('dense', 'image', 'featmaps')

    def __init__(self,
                 out_type: str = 'dense',
                 out_indices: Sequence[int] = (),
                 train_blocks: Union[str, int, Sequence[int]] = 'all',
                 train_patterns: Optional[Sequence[str]] = None,
                 with_cp: bool = False,
                 normalize_dense: bool = True,
                 dense_residual: str = 'token',
                 window_attn: Optional[Sequence[int]] = None,
                 pretrained: Optional[str] = None,
                 cache_dir: Optional[str] = None,
                 init_cfg: OptMultiConfig = None) -> None:
        super().__init__(init_cfg=init_cfg)
        if out_type not in self.OUT_TYPES:
            raise ValueError(f'out_type must be one of {self.OUT_TYPES}, '
                             f'got {out_type!r}')
        self.out_type = out_type
        self._out_indices = tuple(out_indices)
        self._train_blocks = train_blocks
        if train_patterns is not None:
            if isinstance(train_patterns, str):
                train_patterns = [train_patterns]
            if train_blocks != 'all':
                raise ValueError('give train_blocks or train_patterns, not '
                                 f'both (got {train_blocks!r} and '
                                 f'{list(train_patterns)})')
        self.train_patterns = None if train_patterns is None else tuple(
            train_patterns)
        self._pattern_blocks = None
        self.with_cp = with_cp
        self.normalize_dense = normalize_dense
        if dense_residual not in ('token', 'cls'):
            raise ValueError("dense_residual must be 'token' or 'cls', got "
                             f'{dense_residual!r}')
        self.dense_residual = dense_residual
        self.pretrained = pretrained
        self.cache_dir = cache_dir
        self.window_attn = None if window_attn is None else tuple(window_attn)
        if self.window_attn is not None and (len(self.window_attn) != 2
                                             or min(self.window_attn) < 1):
            raise ValueError('window_attn must be (rows, cols) >= 1, got '
                             f'{window_attn}')

    # ------------------------------------------------------------------
    # hooks implemented by subclasses
    # ------------------------------------------------------------------
    @property
    def num_layers(self) -> int:
        """Number of residual attention blocks."""
        raise NotImplementedError

    @property
    def patch_size(self) -> int:
        """Side of a square patch in pixels."""
        raise NotImplementedError

    @property
    def embed_dim(self) -> int:
        """Width of the tokens inside the tower."""
        raise NotImplementedError

    @property
    def output_dim(self) -> int:
        """Width of the projected (CLIP embedding space) outputs."""
        raise NotImplementedError

    def blocks(self) -> nn.ModuleList:
        """The residual attention blocks, in order."""
        raise NotImplementedError

    def _embed(self, x: Tensor) -> Tuple[Tensor, Tuple[int, int], Dict]:
        """Patchify, add the class token and position embeddings.

        Returns:
            Tokens (B, 1 + h*w, C), the grid (h, w) and keyword arguments
            every block needs (e.g. rotary embeddings).
        """
        raise NotImplementedError

    def _block(self, index: int, x: Tensor, **kwargs) -> Tensor:
        """Run block ``index`` as trained."""
        raise NotImplementedError

    def _value_only_block(self, x: Tensor, **kwargs) -> Tensor:
        """The last block without query-key attention (paper §3.1)."""
        raise NotImplementedError

    def _dense_skip(self, x: Tensor) -> Tensor:
        """The skip input of the value-only block (see ``dense_residual``).

        Args:
            x: The last block's input tokens (B, 1 + N, C), class token
                first.
        """
        if self.dense_residual == 'cls':
            return x[:, :1].expand_as(x)
        return x

    def _extra_block(self, index: int, x: Tensor, extra: Tensor, mask: Tensor,
                     **kwargs) -> Tensor:
        """Update extra query tokens with block ``index``'s own weights.

        Queries come from ``extra`` (B, Q, C); keys and values from the
        image tokens ``x`` (B, 1 + h*w, C) *entering* the block, exactly as
        the block computes them (norm, projections, RoPE on patch keys);
        ``mask`` (B, 1, Q, 1 + h*w) is True where attention is allowed and
        has at least one True per row. Then the block's output projection,
        residual, norm and MLP. The image tokens are not changed.

        Returns:
            The updated extra tokens (B, Q, C).
        """
        raise NotImplementedError

    def _window_kwargs(self, kwargs: Dict, grid: Tuple[int, int],
                       batch: int) -> Dict:
        """Block keyword arguments for windowed tokens (e.g. RoPE tables).

        The default passes them through; towers with per-token arguments
        reorder them like :meth:`_to_windows` orders tokens.
        """
        return kwargs

    def _final_norm(self, x: Tensor) -> Tensor:
        raise NotImplementedError

    def _project(self, x: Tensor) -> Tensor:
        """Projection head into the CLIP embedding space."""
        raise NotImplementedError

    def tower(self) -> nn.Module:
        """The wrapped library module whose state dict checkpoints hold."""
        raise NotImplementedError

    def convert_state_dict(self, state: Dict[str, Tensor],
                           source: str) -> Dict[str, Tensor]:
        """Convert a checkpoint's keys to :meth:`tower`'s keys."""
        raise NotImplementedError

    def non_block_parameters(self) -> List[nn.Parameter]:
        """Parameters outside the blocks (always frozen)."""
        in_blocks = {id(p) for p in self.blocks().parameters()}
        return [p for p in self.parameters() if id(p) not in in_blocks]

    # ------------------------------------------------------------------
    # weights
    # ------------------------------------------------------------------
    def load_pretrained(self, pretrained: str) -> None:
        """Load image-tower weights from a file or open_clip tag, strictly."""
        path = resolve_pretrained(pretrained, self.cache_dir)
        state = self.convert_state_dict(load_state_dict_file(path), path)
        load_strict(self.tower(), state, path)
        record_weights(self, pretrained)  # source + fingerprint, see frozen

    def init_weights(self) -> None:
        """Load ``pretrained`` if given, else MMEngine's ``init_cfg``."""
        if self.pretrained is not None:
            self.load_pretrained(self.pretrained)
            self._is_init = True
        else:
            super().init_weights()
            record_weights(self, None)  # random: fingerprint of the init
        self._freeze()

    # ------------------------------------------------------------------
    # shared logic
    # ------------------------------------------------------------------
    @property
    def out_indices(self) -> Tuple[int, ...]:
        """``out_indices`` with negative values resolved."""
        n = self.num_layers
        resolved = tuple(i + n if i < 0 else i for i in self._out_indices)
        for i in resolved:
            if not 0 <= i < n:
                raise ValueError(f'out_indices {self._out_indices} out of '
                                 f'range for {n} blocks')
        return resolved

    @property
    def trainable_block_indices(self) -> Tuple[int, ...]:
        """Indices of the blocks that receive gradients.

        With ``train_patterns``: the blocks with a parameter that a pattern
        names.
        """
        if self.train_patterns is not None:
            if self._pattern_blocks is None:  # patterns and blocks are fixed
                names = {id(p): n for n, p in self.named_parameters()}
                self._pattern_blocks = tuple(
                    i for i, blk in enumerate(self.blocks()) if any(
                        self._pattern_hit(names[id(p)])
                        for p in blk.parameters()))
            return self._pattern_blocks
        n, spec = self.num_layers, self._train_blocks
        if spec == 'all':
            return tuple(range(n))
        if isinstance(spec, int):
            if not 0 <= spec <= n:
                raise ValueError(f'train_blocks={spec} but the tower has {n} '
                                 'blocks')
            return tuple(range(n - spec, n))
        indices = tuple(sorted(i + n if i < 0 else i for i in spec))
        if any(not 0 <= i < n for i in indices):
            raise ValueError(f'train_blocks {spec} out of range for {n} '
                             'blocks')
        return indices

    def _pattern_hit(self, name: str) -> bool:
        return any(fnmatchcase(name, p) for p in self.train_patterns)

    def _trains_anything(self) -> bool:
        if self.train_patterns is not None:
            return any(
                self._pattern_hit(n) for n, _ in self.named_parameters())
        return bool(self.trainable_block_indices)

    def _freeze(self) -> None:
        """Set ``requires_grad`` following ``train_patterns`` or blocks."""
        if self.train_patterns is not None:
            set_trainable(self, self.train_patterns)
            return
        trainable = set(self.trainable_block_indices)
        for p in self.non_block_parameters():
            p.requires_grad_(False)
        for i, blk in enumerate(self.blocks()):
            for p in blk.parameters():
                p.requires_grad_(i in trainable)

    def train(self, mode: bool = True) -> 'BaseCLIPViT':
        """Keep a fully frozen tower in eval mode (it is a fixed encoder)."""
        super().train(mode)
        if mode and not self._trains_anything():
            super().train(False)
        return self

    def _check_input(self, x: Tensor) -> None:
        if x.dim() != 4 or x.shape[1] != 3:
            raise ValueError('CLIP ViTs take (B, 3, H, W) images, got shape '
                             f'{tuple(x.shape)}')
        p = self.patch_size
        if x.shape[2] % p or x.shape[3] % p:
            raise ValueError(f'input size {tuple(x.shape[2:])} is not a '
                             f'multiple of the patch size {p}; pad it')

    def _to_windows(self, x: Tensor, grid: Tuple[int, int]) -> Tensor:
        """(B, 1 + h*w, C) -> (B * rows * cols, 1 + h*w / (rows*cols), C).

        Windows are ordered row-major; the class token is replicated.
        """
        rows, cols = self.window_attn
        h, w = grid
        if h % rows or w % cols:
            raise ValueError(f'the {h}x{w} token grid does not split into '
                             f'{rows}x{cols} attention windows')
        b, _, c = x.shape
        patches = x[:, 1:].reshape(b, rows, h // rows, cols, w // cols, c)
        patches = patches.permute(0, 1, 3, 2, 4,
                                  5).reshape(b * rows * cols,
                                             (h // rows) * (w // cols), c)
        cls = x[:, :1].repeat_interleave(rows * cols, dim=0)
        return torch.cat([cls, patches], dim=1)

    def _from_windows(self, x: Tensor, grid: Tuple[int, int],
                      batch: int) -> Tensor:
        """Inverse of :meth:`_to_windows`, averaging the class tokens."""
        rows, cols = self.window_attn
        h, w = grid
        c = x.shape[-1]
        cls = x[:, :1].reshape(batch, rows * cols, c).mean(1, keepdim=True)
        patches = x[:, 1:].reshape(batch, rows, cols, h // rows, w // cols, c)
        patches = patches.permute(0, 1, 3, 2, 4, 5).reshape(batch, h * w, c)
        return torch.cat([cls, patches], dim=1)

    def _windowed_block(self, index: int, x: Tensor, grid: Tuple[int, int],
                        **kwargs) -> Tensor:
        batch = x.shape[0]
        out = self._block(index, self._to_windows(x, grid),
                          **self._window_kwargs(kwargs, grid, batch))
        return self._from_windows(out, grid, batch)

    def _run(
        self,
        index: int,
        x: Tensor,
        kwargs: Dict,
        value_only: bool,
        extra: Optional[Tensor] = None,
        extra_mask: Optional[Tensor] = None
    ) -> Union[Tensor, Tuple[Tensor, Tensor]]:
        if value_only:
            fn = self._value_only_block
        elif self.window_attn is not None:
            grid = kwargs.pop('_grid')
            fn = (lambda t, **kw: self._windowed_block(index, t, grid, **kw))
        else:
            fn = (lambda t, **kw: self._block(index, t, **kw))
        kwargs = {k: v for k, v in kwargs.items() if k != '_grid'}
        if extra is None:
            inputs = (x, )

            def step(t):
                return fn(t, **kwargs)
        else:
            # the image tokens take exactly the path they take without
            # extra tokens; the extra tokens read the block's input
            inputs = (x, extra)

            def step(t, e):
                return (fn(t, **kwargs),
                        self._extra_block(index, t, e, extra_mask, **kwargs))

        if self.with_cp and self.training and torch.is_grad_enabled() and \
                index in self.trainable_block_indices:
            return checkpoint(step, *inputs, use_reentrant=False)
        return step(*inputs)

    def _extra_mask(self, mask: Optional[Tensor], extra: Tensor,
                    num_tokens: int) -> Tensor:
        """Check the extra tokens' mask; (B, 1, Q, S), no empty row."""
        b, q, _ = extra.shape
        if mask is None:
            return extra.new_ones((b, 1, q, num_tokens), dtype=torch.bool)
        if mask.dtype != torch.bool or tuple(mask.shape) != (b, q, num_tokens):
            raise ValueError('extra_attn_mask must be a bool tensor of '
                             f'shape (B, Q, 1 + h*w) = {(b, q, num_tokens)}'
                             f', got {mask.dtype} {tuple(mask.shape)}')
        mask = mask.to(extra.device).clone()
        # an empty mask falls back to the class token (as MasQCLIP's empty
        # mask leaves only CLS), so no row of the softmax is all -inf
        mask[..., 0] |= ~mask.any(dim=-1)
        return mask[:, None]

    def forward_tokens(
        self,
        x: Tensor,
        taps: Sequence[int] = (),
        value_only_last: bool = False,
        extra_tokens: Optional[Tensor] = None,
        extra_attn_mask: Optional[Tensor] = None,
        num_blocks: Optional[int] = None
    ) -> Union[Tuple[Tensor, Tuple[int, int], Dict[int, Tensor]], Tuple[
            Tensor, Tuple[int, int], Dict[int, Tensor], Tensor]]:
        """Run the tower and return the last tokens plus tapped blocks.

        Extra query tokens (mask class tokens of MaskCLIP, ODISE and
        MasQCLIP, segmentation facts §3.3, §3.5, §3.6) go through every
        block with the block's own weights: their queries come from
        themselves, keys and values from the image tokens (class token and
        patches) that ``extra_attn_mask`` allows, as the block computes them
        (EVA02: RoPE on the patch keys). They never attend to themselves or
        to each other, and no image token attends to them, so the image
        tokens are bit-identical with and without extra tokens (the extra
        update is computed beside the unchanged block; it recomputes the
        block's keys and values of the image tokens). A mask row with no
        allowed token falls back to the class token alone. Extra tokens
        need global attention (no ``window_attn``). In a value-only last
        block they still attend as in the trained block.

        Args:
            x: Images (B, 3, H, W), normalised with CLIP mean/std.
            taps: Block indices whose outputs (B, 1 + h*w, C) to return.
            value_only_last: Run the last block without attention.
            extra_tokens: Optional (B, Q, C) extra query tokens, e.g. copies
                of the embedded class token (ODISE) plus a learnt offset.
            extra_attn_mask: Optional bool (B, Q, 1 + h*w), True where extra
                token q may attend to image token s (index 0 is the class
                token, then the patches row-major). Defaults to all True.
            num_blocks: Run only the first ``num_blocks`` blocks (the
                value-only last block counts only if it is reached).

        Returns:
            The tokens after the last block run, the grid (h, w),
            ``{index: tokens}`` for the taps and, only if ``extra_tokens``
            is given, the extra tokens after the last block (B, Q, C) (see
            :meth:`embed_tokens` for their readout).
        """
        self._check_input(x)
        x, grid, kwargs = self._embed(x)
        if self.window_attn is not None:
            if extra_tokens is not None:
                raise ValueError('extra_tokens need global attention: build '
                                 'the tower without window_attn')
            self._to_windows(x[:1], grid)  # fail early on a bad grid
        extra = mask = None
        if extra_tokens is not None:
            if extra_tokens.dim() != 3 or extra_tokens.shape[0] != x.shape[
                    0] or extra_tokens.shape[2] != x.shape[2]:
                raise ValueError('extra_tokens must be (B, Q, C) = '
                                 f'({x.shape[0]}, Q, {x.shape[2]}), got '
                                 f'{tuple(extra_tokens.shape)}')
            extra = extra_tokens.to(x.dtype)
            mask = self._extra_mask(extra_attn_mask, extra, x.shape[1])
        elif extra_attn_mask is not None:
            raise ValueError('extra_attn_mask given without extra_tokens')
        n = self.num_layers if num_blocks is None else num_blocks
        if not 1 <= n <= self.num_layers:
            raise ValueError(f'num_blocks must be in [1, {self.num_layers}],'
                             f' got {num_blocks}')
        taps = set(taps)
        outs = {}
        last = self.num_layers - 1
        for i in range(n):
            out = self._run(i, x, dict(kwargs, _grid=grid), value_only_last
                            and i == last, extra, mask)
            if extra is None:
                x = out
            else:
                x, extra = out
            if i in taps:
                outs[i] = x
        if extra is None:
            return x, grid, outs
        return x, grid, outs, extra

    def embed_tokens(self, tokens: Tensor, normalize: bool = True) -> Tensor:
        """Read out tokens into the CLIP space: final norm + projection.

        The readout of the image embedding, applied to any (..., C) tokens,
        e.g. the extra tokens of :meth:`forward_tokens` (MasQCLIP / ODISE:
        ``ln_post`` -> ``proj`` -> L2, segmentation facts §3.3, §3.6).

        Args:
            tokens: (..., C) tokens after the last block.
            normalize: L2-normalise the result. Defaults to True.

        Returns:
            (..., D) embeddings.
        """
        x = self._project(self._final_norm(tokens))
        return F.normalize(x, dim=-1) if normalize else x

    def forward_intermediates(
        self,
        x: Tensor,
        indices: Optional[Union[int, Sequence[int]]] = None,
        return_prefix_tokens: bool = False,
        norm: bool = False,
        stop_early: bool = False,
        output_fmt: str = 'NCHW',
        intermediates_only: bool = False,
        value_only_last: bool = False
    ) -> Union[List[Tensor], Tuple[Tensor, List[Tensor]]]:
        """Block outputs in the style of timm's ``forward_intermediates``.

        Follows timm 1.0's ``VisionTransformer.forward_intermediates``
        contract: ``indices`` None takes every block, an int ``n`` the last
        ``n``, a sequence those blocks (negative from the end); the class
        token is split off the intermediates (returned with each as a
        ``(spatial, prefix)`` pair if ``return_prefix_tokens``, prefix
        (B, 1, C)); ``norm`` applies the final norm to the intermediates;
        the final features are all tokens (B, 1 + h*w, C) after the last
        block and the final norm (no projection). Intermediates are the raw
        block outputs, as the F-ViT taps of :meth:`forward_featmaps`.

        Args:
            x: Images (B, 3, H, W).
            indices: Blocks to return (see above).
            return_prefix_tokens: Also return each class token.
            norm: Final norm on the intermediates.
            stop_early: Stop after the last requested block; needs
                ``intermediates_only``.
            output_fmt: ``'NCHW'`` maps (B, C, h, w) or ``'NLC'`` tokens
                (B, h*w, C).
            intermediates_only: Return the intermediates only.
            value_only_last: Run the last block value-only (the dense path
                of paper §3.1, as :meth:`forward_featmaps` does for a tap at
                the last block).

        Returns:
            The list of intermediates, or ``(final_features,
            intermediates)``.
        """
        if output_fmt not in ('NCHW', 'NLC'):
            raise ValueError("output_fmt must be 'NCHW' or 'NLC', got "
                             f'{output_fmt!r}')
        if stop_early and not intermediates_only:
            raise ValueError('stop_early needs intermediates_only=True (the '
                             'final features need every block)')
        n = self.num_layers
        if indices is None:
            indices = n
        if isinstance(indices, int):
            if not 0 < indices <= n:
                raise ValueError(f'last-n indices={indices} out of range '
                                 f'(1 to {n})')
            take = list(range(n - indices, n))
        else:
            take = [i + n if i < 0 else i for i in indices]
            if not take or any(not 0 <= i < n for i in take):
                raise ValueError(f'indices {list(indices)} out of range for '
                                 f'{n} blocks')
        tokens, grid, outs = self.forward_tokens(
            x,
            taps=take,
            value_only_last=value_only_last,
            num_blocks=max(take) + 1 if stop_early else None)
        inter = []
        for i in take:
            y = self._final_norm(outs[i]) if norm else outs[i]
            spatial = y[:, 1:]
            if output_fmt == 'NCHW':
                spatial = self._tokens_to_map(spatial, grid).contiguous()
            inter.append((spatial,
                          y[:, :1]) if return_prefix_tokens else spatial)
        if intermediates_only:
            return inter
        return self._final_norm(tokens), inter

    def _tokens_to_map(self, tokens: Tensor, grid: Tuple[int, int]) -> Tensor:
        b, _, c = tokens.shape
        return tokens.transpose(1, 2).reshape(b, c, *grid)

    def dense_from_tokens(self, tokens: Tensor, grid: Tuple[int,
                                                            int]) -> Tensor:
        """Final norm + projection of the patch tokens as a (B, D, h, w) map.

        Args:
            tokens: Output of the value-only last block, (B, 1 + h*w, C).
            grid: The (h, w) grid.
        """
        x = self._project(self._final_norm(tokens[:, 1:]))
        if self.normalize_dense:
            x = F.normalize(x, dim=-1)
        return self._tokens_to_map(x, grid)

    def forward_dense(self, x: Tensor) -> Tensor:
        """Dense CLIP map (B, D, H/p, W/p) of paper §3.1."""
        tokens, grid, _ = self.forward_tokens(x, value_only_last=True)
        return self.dense_from_tokens(tokens, grid)

    def forward_image(self, x: Tensor) -> Tensor:
        """Image embedding (B, D): class token, final norm, projection."""
        tokens, _, _ = self.forward_tokens(x)
        return self._project(self._final_norm(tokens[:, 0]))

    def forward_featmaps(
        self,
        x: Tensor,
        with_dense: bool = False
    ) -> Union[Tuple[Tensor, ...], Tuple[Tuple[Tensor, ...], Tensor]]:
        """Tapped block outputs as (B, C, h, w) maps, optionally the dense map.

        Args:
            x: Images (B, 3, H, W).
            with_dense: Also return the dense CLIP map from the same pass
                (the last block then runs value-only, as F-ViT does).

        Returns:
            The maps in ``out_indices`` order, and the dense map if asked.
        """
        indices = self.out_indices
        if not indices:
            raise ValueError('forward_featmaps needs out_indices')
        value_only = with_dense or self.num_layers - 1 in indices
        tokens, grid, outs = self.forward_tokens(
            x, taps=indices, value_only_last=value_only)
        maps = tuple(
            self._tokens_to_map(outs[i][:, 1:], grid) for i in indices)
        if with_dense:
            return maps, self.dense_from_tokens(tokens, grid)
        return maps

    def forward(self, x: Tensor) -> Union[Tensor, Tuple[Tensor, ...]]:
        """Output selected by ``out_type`` (see the class docstring)."""
        if self.out_type == 'dense':
            return self.forward_dense(x)
        if self.out_type == 'image':
            return self.forward_image(x)
        return self.forward_featmaps(x)

    def _log_trainable(self) -> None:
        n_train = sum(p.numel() for p in self.parameters() if p.requires_grad)
        n_all = sum(p.numel() for p in self.parameters())
        MMLogger.get_current_instance().debug(
            f'{type(self).__name__}: {n_train}/{n_all} parameters trainable '
            f'(blocks {list(self.trainable_block_indices)})')
