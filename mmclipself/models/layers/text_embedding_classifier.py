# Copyright (c) mmclipself contributors. All rights reserved.
import os.path as osp
from typing import List, Optional, Tuple

import torch
import torch.nn as nn
import torch.nn.functional as F
from torch import Tensor

from mmclipself.registry import MODELS

BACKGROUND = 'background'


def load_text_embeddings(path: str) -> Tuple[List[str], Tensor]:
    """Read a vocabulary file of ``tools/generate_text_embeddings.py``.

    Args:
        path: A ``.pt`` file holding ``class_names`` and ``embeddings``
            (``(C, D)``), or a ``{name: (D,) tensor}`` dict (the layout of the
            CLIPSelf release's dump scripts).

    Returns:
        The class names and the ``(C, D)`` float32 embeddings.

    Raises:
        FileNotFoundError: The file does not exist.
        ValueError: It is not a vocabulary file, or names and rows disagree.
    """
    if not osp.isfile(path):
        raise FileNotFoundError(
            f'text embedding file not found: {path} (write it with '
            'tools/generate_text_embeddings.py)')
    try:
        data = torch.load(path, map_location='cpu', weights_only=True)
    except Exception as e:  # noqa: BLE001 - reported with the file name
        raise ValueError(f'cannot read text embeddings from {path}: {e}')
    if isinstance(data, dict) and 'embeddings' in data:
        names, emb = list(data.get('class_names', [])), data['embeddings']
    elif isinstance(data, dict) and data and all(
            isinstance(v, Tensor) for v in data.values()):
        names = list(data)
        emb = torch.stack([v.reshape(-1) for v in data.values()])
    else:
        raise ValueError(
            f'{path} is not a text embedding file: expected a dict with '
            '"class_names" and "embeddings" or a {name: tensor} dict')
    if not isinstance(emb, Tensor) or emb.dim() != 2:
        raise ValueError(f'{path}: embeddings must be a (C, D) tensor, got '
                         f'{getattr(emb, "shape", type(emb))}')
    if len(names) != emb.size(0):
        raise ValueError(f'{path}: {len(names)} class names but '
                         f'{emb.size(0)} embedding rows')
    return names, emb.float()


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
        names, emb = load_text_embeddings(embeddings)
        bg = None
        if BACKGROUND in names:
            i = names.index(BACKGROUND)
            bg = emb[i]
            names = names[:i] + names[i + 1:]
            emb = torch.cat([emb[:i], emb[i + 1:]])
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
