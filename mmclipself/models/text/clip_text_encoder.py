# Copyright (c) mmclipself contributors. All rights reserved.
"""The CLIP text tower as a registered module (open_clip's, text only)."""
from typing import Dict, Optional, Sequence, Union

import torch
import torch.nn as nn
import torch.nn.functional as F
from mmengine.model import BaseModule
from torch import Tensor

from mmclipself.registry import MODELS
from mmclipself.utils.typing_utils import OptMultiConfig
from mmclipself.vocab import TemplatesType, Vocabulary, embed_class_names
from ..layers.split_qkv_attention import (pack_qkv_keys,
                                          split_packed_attention,
                                          split_qkv_keys)
from ..utils.clip_checkpoint import (load_state_dict_file, load_strict,
                                     resolve_pretrained, strip_prefix)
from ..utils.frozen import freeze_module, record_weights
from ..utils.trainability import set_trainable

#: Keys of a CLIP-layout file that belong to neither tower.
_NON_TEXT_KEYS = ('logit_scale', 'logit_bias', 'input_resolution',
                  'context_length', 'vocab_size', 'attn_mask')


def text_tower_state(state: Dict[str, Tensor],
                     source: str) -> Dict[str, Tensor]:
    """The text-tower part of a CLIP checkpoint (``TextTransformer`` keys).

    Layouts: ``text.*`` (open_clip ``CustomTextCLIP`` such as EVA02-CLIP,
    original EVA-CLIP and CLIPSelf EVA files, this module's own state) or
    the CLIP layout with top-level ``token_embedding.weight``,
    ``transformer.resblocks.*``, ``ln_final.*``, ``text_projection``
    (OpenAI, open_clip ``CLIP``, CLIPSelf OpenAI files). Image-tower keys
    and ``logit_scale`` are dropped; every other key is kept, so unknown
    keys fail the strict load.

    Raises:
        KeyError: No text tower in the file (names it and its first keys).
    """
    if any(k.startswith('text.') for k in state):
        return strip_prefix(state, 'text.')
    if 'token_embedding.weight' in state:
        return {
            k: v
            for k, v in state.items()
            if not k.startswith('visual.') and k not in _NON_TEXT_KEYS
        }
    raise KeyError(f'{source} holds no CLIP text tower (no text.* or '
                   f'token_embedding.weight keys); first keys: '
                   f'{list(state)[:5]}')


@MODELS.register_module()
class CLIPTextEncoder(BaseModule):
    """A CLIP text tower, built without its image tower.

    open_clip's ``TextTransformer`` is built from the model config
    (``open_clip.get_model_config(model_name)``: ``embed_dim``,
    ``text_cfg``, ``quick_gelu``) with open_clip's own text-tower builder,
    the one its ``CustomTextCLIP`` uses; no image tower is ever built.
    :meth:`init_weights` reads ``pretrained`` strictly, from the same
    sources as the image towers (``open_clip://MODEL/TAG``, open_clip,
    original EVA-CLIP, OpenAI or CLIPSelf files; see
    :func:`text_tower_state`), and records its fingerprint
    (:func:`~mmclipself.models.utils.record_weights`).

    Frozen and in eval mode by default (the CLIPSelf release freezes the
    text tower, reference facts §2). ``train_patterns`` makes the named
    parameters trainable; then every ``nn.MultiheadAttention`` of the text
    transformer is first replaced by
    :class:`~mmclipself.models.layers.SplitQKVAttention` (same numbers),
    so that ``('*attn.q_proj.*', '*attn.v_proj.*')`` trains only q and v,
    as Cat-Seg does (segmentation facts §2.1). Without ``train_patterns``
    the tower is open_clip's module unchanged.

    Args:
        model_name: open_clip model name, e.g. ``'EVA02-B-16'``,
            ``'ViT-B-16-quickgelu'`` (see
            :func:`~mmclipself.vocab.text_model_for_tower`).
        pretrained: Weight file or ``open_clip://MODEL/TAG``; ``None``
            keeps open_clip's random initialisation (tests).
        cache_dir: open_clip download cache for ``open_clip://`` sources.
        model_cfg: An open_clip model config dict (``embed_dim``,
            ``text_cfg``, optional ``quick_gelu``) for a model open_clip
            does not know; default: open_clip's config of ``model_name``.
        train_patterns: Parameter-name globs of what trains (names as in
            ``named_parameters()``, e.g.
            ``'text.transformer.resblocks.*.attn.q_proj.*'``); a pattern
            matching nothing is an error. ``None``: frozen.
        init_cfg: MMEngine initialisation config (unused with
            ``pretrained``).
    """

    def __init__(self,
                 model_name: str,
                 pretrained: Optional[str] = None,
                 cache_dir: Optional[str] = None,
                 model_cfg: Optional[dict] = None,
                 train_patterns: Optional[Sequence[str]] = None,
                 init_cfg: OptMultiConfig = None) -> None:
        super().__init__(init_cfg=init_cfg)
        import open_clip
        known = open_clip.get_model_config(model_name)
        cfg = model_cfg if model_cfg is not None else known
        if not cfg or 'text_cfg' not in cfg or 'embed_dim' not in cfg:
            raise ValueError(
                f'unknown open_clip model {model_name!r}: pass model_cfg '
                '(embed_dim, text_cfg) or one of open_clip.list_models()')
        text_cfg = dict(cfg['text_cfg'])
        if text_cfg.get('hf_model_name'):
            raise ValueError(f'{model_name}: Hugging Face text towers are '
                             'not supported (no download here)')
        self.model_name = model_name
        self.pretrained = pretrained
        self.cache_dir = cache_dir
        self._cfg = dict(
            embed_dim=cfg['embed_dim'],
            text_cfg=text_cfg,
            quick_gelu=bool(cfg.get('quick_gelu', False)))
        self.text = self._build_text_tower()
        # the tokenizer of a known model; open_clip's default BPE otherwise
        self.tokenizer = open_clip.get_tokenizer(
            model_name if known else '',
            context_length=self.text.context_length)
        if train_patterns is None:
            self.train_patterns = None
            freeze_module(self)
        else:
            if isinstance(train_patterns, str):
                train_patterns = [train_patterns]
            self.train_patterns = tuple(train_patterns)
            split_packed_attention(self.text.transformer)
            set_trainable(self, self.train_patterns)

    @property
    def embed_dim(self) -> int:
        """Width of the output embeddings (the CLIP embedding space)."""
        return self.text.output_dim

    @property
    def context_length(self) -> int:
        """Number of tokens per prompt."""
        return self.text.context_length

    @property
    def trainable(self) -> bool:
        """Whether any parameter trains."""
        return any(p.requires_grad for p in self.parameters())

    # ------------------------------------------------------------------
    # weights
    # ------------------------------------------------------------------
    def load_pretrained(self, pretrained: str) -> None:
        """Load text-tower weights from a file or open_clip tag, strictly.

        Raises:
            FileNotFoundError: Missing file / unfetchable tag.
            KeyError: Missing or unexpected keys (names the file).
            RuntimeError: Wrong shapes, e.g. another width (names the file).
        """
        path = resolve_pretrained(pretrained, self.cache_dir)
        state = text_tower_state(load_state_dict_file(path), path)
        # either layout loads: open_clip's packed in_proj (every released
        # file) or split q/k/v (a tuned tower of this module)
        if self.train_patterns is None:
            state = pack_qkv_keys(state)
        else:
            state = split_qkv_keys(state)
        load_strict(self.text, state, path)
        record_weights(self, pretrained)

    def _build_text_tower(self) -> nn.Module:
        """open_clip's text tower of the config (open_clip's own builder)."""
        from open_clip.model import _build_text_tower
        return _build_text_tower(
            self._cfg['embed_dim'],
            dict(self._cfg['text_cfg']),
            quick_gelu=self._cfg['quick_gelu'])

    def init_weights(self) -> None:
        """Load ``pretrained`` if given, else MMEngine's ``init_cfg``."""
        if self.pretrained is not None:
            self.load_pretrained(self.pretrained)
            self._is_init = True
        else:
            super().init_weights()
            record_weights(self, None)  # random: fingerprint of the init

    def train(self, mode: bool = True) -> 'CLIPTextEncoder':
        """Keep a fully frozen tower in eval mode."""
        super().train(mode and self.trainable)
        return self

    # ------------------------------------------------------------------
    # forward
    # ------------------------------------------------------------------
    def tokenize(self, texts: Union[str, Sequence[str]]) -> Tensor:
        """Token ids ``(N, context_length)`` on this module's device."""
        if isinstance(texts, str):
            texts = [texts]
        device = self.text.positional_embedding.device
        return self.tokenizer(list(texts)).to(device)

    def encode_text(self, tokens: Tensor, normalize: bool = False) -> Tensor:
        """open_clip's ``encode_text``: ``(N, D)`` projected embeddings."""
        x = self.text(tokens)
        return F.normalize(x, dim=-1) if normalize else x

    def forward(self, texts: Union[str, Sequence[str], Tensor]) -> Tensor:
        """Unit text embeddings.

        Args:
            texts: Prompts (a string or a list) or token ids ``(N, L)``.

        Returns:
            ``(N, D)`` L2-normalised embeddings. No graph is built when
            nothing trains.
        """
        tokens = texts if isinstance(texts, Tensor) else self.tokenize(texts)
        with torch.set_grad_enabled(torch.is_grad_enabled()
                                    and self.trainable):
            return self.encode_text(
                tokens.to(self.text.positional_embedding.device),
                normalize=True)

    def encode_prompts(self,
                       class_names: Sequence[str],
                       templates: TemplatesType = 'vild',
                       rule: str = 'release',
                       this_is: bool = True,
                       batch_size: int = 8) -> Vocabulary:
        """Class names -> :class:`~mmclipself.vocab.Vocabulary`.

        See :func:`~mmclipself.vocab.embed_class_names` (prompt ensemble,
        per-template embeddings, provenance of this tower).
        """
        return embed_class_names(
            self,
            class_names,
            templates=templates,
            rule=rule,
            this_is=this_is,
            batch_size=batch_size)

    def extra_repr(self) -> str:
        return (f'model_name={self.model_name!r}, '
                f'pretrained={self.pretrained!r}, '
                f'trainable={self.trainable}')


def build_text_model(model_name: str,
                     pretrained: Optional[str] = None,
                     cache_dir: Optional[str] = None,
                     model_cfg: Optional[dict] = None) -> CLIPTextEncoder:
    """A frozen :class:`CLIPTextEncoder` with its weights loaded, in eval.

    Args:
        model_name: open_clip model name, e.g. ``'EVA02-B-16'``.
        pretrained: File or ``open_clip://MODEL/TAG``; ``None`` keeps random
            weights (tests only).
        cache_dir: open_clip download cache.
        model_cfg: See :class:`CLIPTextEncoder`.

    Raises:
        KeyError: Text-tower keys missing from or unexpected in the file.
    """
    model = CLIPTextEncoder(model_name, pretrained, cache_dir, model_cfg)
    model.init_weights()
    return model.eval()
