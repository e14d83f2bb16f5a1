# Copyright (c) mmclipself contributors. All rights reserved.
from typing import List, Optional, Tuple

import torch
import torch.nn as nn
import torch.nn.functional as F
from torch import Tensor

from mmclipself.registry import MODELS
from mmclipself.vocab import load_vocabulary


def load_text_embeddings(path: str) -> Tuple[List[str], Tensor]:
    """Class names and ``(C, D)`` embeddings of a vocabulary file.

    A shortcut for :func:`~mmclipself.vocab.load_vocabulary` (any layout:
    this package's files or the CLIPSelf release's ``{name: tensor}``
    dicts); the rows are L2-normalised float32.

    Raises:
        FileNotFoundError: The file does not exist.
        ValueError: It is not a vocabulary file, or names and rows disagree.
    """
    vocab = load_vocabulary(path)
    return vocab.class_names, vocab.embeddings


@MODELS.register_module()
class TextEmbeddingClassifier(nn.Module):
    """Cosine classifier over CLIP text embeddings (F-ViT, paper A.3).

    ``logits = T * normalize(x) @ normalize([E; e_bg]).T`` with one column per
    vocabulary class and the background column last (MMDetection's label
    convention). Follows the CLIPSelf release: the background embedding is
    the prompt-ensembled text embedding of "background" (fixed unless
    ``learn_background``) and the temperature ``T`` is learned from 50.

    The vocabulary is a non-persistent buffer read from ``embeddings``: it is
    never stored in checkpoints, so testing on another vocabulary only means
    pointing the config at another file (and setting ``num_classes``).

    Args:
        in_features: Width of the box features; must equal the embedding
            width (512 for ViT-B/16 CLIPs, 768 for L/14).
        out_features: ``num_classes + 1`` (set by MMDetection's bbox head).
        embeddings: Vocabulary file of ``tools/generate_text_embeddings.py``.
            Its "background" entry, if any, becomes the background column.
        learn_background: Learn the background embedding (initialised from
            the file's entry, or randomly if it has none).
        temperature: Initial temperature (release: 50).
        learn_temperature: Learn it (release default) or keep it fixed.
        test_temperature: A fixed temperature used in eval mode instead of
            the learned one (the release's transfer head uses 50).
    """

    def __init__(self,
                 in_features: int,
                 out_features: int,
                 embeddings: str,
                 learn_background: bool = False,
                 temperature: float = 50.,
                 learn_temperature: bool = True,
                 test_temperature: Optional[float] = None) -> None:
        super().__init__()
        vocab = load_vocabulary(embeddings)
        classes, bg = vocab.split_background()
        names, emb = classes.class_names, classes.embeddings
        if len(names) + 1 != out_features:
            raise ValueError(
                f'{embeddings} holds {len(names)} classes (besides '
                f'"background") but the head expects {out_features - 1} '
                '(bbox_head.num_classes): set num_classes to the vocabulary '
                'size')
        if emb.size(1) != in_features:
            raise ValueError(
                f'{embeddings} holds {emb.size(1)}-d embeddings but the box '
                f'features are {in_features}-d: set fc_out_channels to the '
                'CLIP embedding width and use the same CLIP for both')
        if bg is None and not learn_background:
            raise ValueError(
                f'{embeddings} has no "background" entry: regenerate it with '
                'tools/generate_text_embeddings.py --background, or set '
                'learn_background=True')
        self.in_features = in_features
        self.out_features = out_features
        self.class_names = names
        #: how the vocabulary was made (text tower, templates, rule, ...)
        self.vocabulary_provenance = dict(vocab.provenance)
        self.register_buffer(
            'text_embeddings', F.normalize(emb, dim=-1), persistent=False)
        if learn_background:
            init = bg if bg is not None else torch.randn(in_features)
            self.bg_embedding = nn.Parameter(F.normalize(init, dim=-1))
        else:
            self.register_buffer(
                'bg_embedding', F.normalize(bg, dim=-1), persistent=False)
        self.temperature = nn.Parameter(
            torch.tensor(float(temperature)), requires_grad=learn_temperature)
        self.test_temperature = test_temperature

    def embeddings(self) -> Tensor:
        """The ``(C + 1, D)`` unit classifier weights, background last."""
        bg = F.normalize(self.bg_embedding, dim=-1)
        return torch.cat([self.text_embeddings, bg[None]])

    def forward(self, x: Tensor) -> Tensor:
        """Temperature-scaled cosine logits ``(N, C + 1)``."""
        t = self.temperature
        if not self.training and self.test_temperature is not None:
            t = t.new_tensor(self.test_temperature)
        weight = self.embeddings().to(x.dtype)
        return t.to(x.dtype) * F.normalize(x, dim=-1) @ weight.t()

    def extra_repr(self) -> str:
        return (f'in_features={self.in_features}, classes='
                f'{len(self.class_names)}+background')
