# Copyright (c) mmclipself contributors. All rights reserved.
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


class BaseCLIPViT(BaseModule):
    """Common interface of the CLIP ViT image towers.

    Subclasses wrap a concrete tower (timm's EVA02 ``Eva``, open_clip's
    OpenAI ``VisionTransformer``) and implement five small hooks:
    :meth:`_embed`, :meth:`_block`, :meth:`_value_only_block`,
    :meth:`_final_norm` and :meth:`_project`. On top of them this class
    provides, for any input whose sides are multiples of the patch size:

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
        with_cp: Activation checkpointing of the trained blocks (saves memory
            at the cost of a second forward).
        normalize_dense: L2-normalise the dense map per location. Defaults
            to True.
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
                 with_cp: bool = False,
                 normalize_dense: bool = True,
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
        self.with_cp = with_cp
        self.normalize_dense = normalize_dense
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

    def init_weights(self) -> None:
        """Load ``pretrained`` if given, else MMEngine's ``init_cfg``."""
        if self.pretrained is not None:
            self.load_pretrained(self.pretrained)
            self._is_init = True
        else:
            super().init_weights()
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
        """Indices of the blocks that receive gradients."""
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

    def _freeze(self) -> None:
        """Set ``requires_grad`` following ``train_blocks``."""
        trainable = set(self.trainable_block_indices)
        for p in self.non_block_parameters():
            p.requires_grad_(False)
        for i, blk in enumerate(self.blocks()):
            for p in blk.parameters():
                p.requires_grad_(i in trainable)

    def train(self, mode: bool = True) -> 'BaseCLIPViT':
        """Keep a fully frozen tower in eval mode (it is a fixed encoder)."""
        super().train(mode)
        if mode and not self.trainable_block_indices:
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

    def _run(self, index: int, x: Tensor, kwargs: Dict,
             value_only: bool) -> Tensor:
        if value_only:
            fn = self._value_only_block
        elif self.window_attn is not None:
            grid = kwargs.pop('_grid')
            fn = (lambda t, **kw: self._windowed_block(index, t, grid, **kw))
        else:
            fn = (lambda t, **kw: self._block(index, t, **kw))
        kwargs = {k: v for k, v in kwargs.items() if k != '_grid'}
        if self.with_cp and self.training and torch.is_grad_enabled() and \
                index in self.trainable_block_indices:
            return checkpoint(
                lambda t: fn(t, **kwargs), x, use_reentrant=False)
        return fn(x, **kwargs)

    def forward_tokens(
        self,
        x: Tensor,
        taps: Sequence[int] = (),
        value_only_last: bool = False
    ) -> Tuple[Tensor, Tuple[int, int], Dict[int, Tensor]]:
        """Run the tower and return the last tokens plus tapped blocks.

        Args:
            x: Images (B, 3, H, W), normalised with CLIP mean/std.
            taps: Block indices whose outputs (B, 1 + h*w, C) to return.
            value_only_last: Run the last block without attention.

        Returns:
            The tokens after the last block, the grid (h, w) and
            ``{index: tokens}`` for the taps.
        """
        self._check_input(x)
        x, grid, kwargs = self._embed(x)
        if self.window_attn is not None:
            self._to_windows(x[:1], grid)  # fail early on a bad grid
        taps = set(taps)
        outs = {}
        last = self.num_layers - 1
        for i in range(self.num_layers):
            x = self._run(i, x, dict(kwargs, _grid=grid), value_only_last
                          and i == last)
            if i in taps:
                outs[i] = x
        return x, grid, outs

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
