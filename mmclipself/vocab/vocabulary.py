# Copyright (c) mmclipself contributors. All rights reserved.
"""The in-memory vocabulary: class names, their embeddings, provenance."""
from dataclasses import dataclass, field, replace
from typing import Any, Dict, List, Optional, Tuple

import torch
import torch.nn.functional as F
from torch import Tensor

from .class_names import BACKGROUND, check_class_names

#: Provenance entries of a vocabulary file (``None`` when unknown).
PROVENANCE_KEYS = ('model', 'pretrained', 'weights', 'templates',
                   'prompt_templates', 'rule', 'this_is', 'background')


@dataclass
class Vocabulary:
    """Class names with their CLIP text embeddings and how they were made.

    Args:
        class_names: Names in classifier order (may include
            :data:`~mmclipself.vocab.BACKGROUND`).
        embeddings: ``(C, D)`` prompt-ensembled embeddings; stored as
            float32 and L2-normalised per row.
        per_template: Optional ``(C, P, D)`` embedding per prompt template
            (Cat-Seg's cost volume needs them), float32, L2-normalised.
        provenance: How the embeddings were made, keys of
            :data:`PROVENANCE_KEYS` (``model``: open_clip model name,
            ``pretrained``: its tag or file, ``templates``: set name,
            ``rule``: name clean-up rule, ``this_is``, ``background``) plus
            ``format``; missing entries are unknown.
        source: The file it was read from, named in errors.

    Raises:
        ValueError: Empty vocabulary, duplicate names, or names, rows and
            per-template shapes that disagree; the message names ``source``.
    """

    class_names: List[str]
    embeddings: Tensor
    per_template: Optional[Tensor] = None
    provenance: Dict[str, Any] = field(default_factory=dict)
    source: Optional[str] = None

    def __post_init__(self) -> None:
        where = self.where
        self.class_names = list(self.class_names)
        if not all(isinstance(n, str) for n in self.class_names):
            raise ValueError(f'{where}: class names must be strings')
        check_class_names(self.class_names, where)
        emb = self.embeddings
        if not isinstance(emb, Tensor) or emb.dim() != 2:
            raise ValueError(f'{where}: embeddings must be a (C, D) tensor, '
                             f'got {getattr(emb, "shape", type(emb))}')
        if emb.size(0) != len(self.class_names):
            raise ValueError(f'{where}: {len(self.class_names)} class names '
                             f'but {emb.size(0)} embedding rows')
        self.embeddings = F.normalize(emb.detach().float(), dim=-1)
        per = self.per_template
        if per is not None:
            if not isinstance(per, Tensor) or per.dim() != 3 or (
                    per.size(0), per.size(2)) != tuple(emb.shape):
                raise ValueError(
                    f'{where}: per-template embeddings must be (C, P, D) = '
                    f'({emb.size(0)}, P, {emb.size(1)}), got '
                    f'{getattr(per, "shape", type(per))}')
            self.per_template = F.normalize(per.detach().float(), dim=-1)
        self.provenance = dict(self.provenance)
        self.provenance['background'] = BACKGROUND in self.class_names

    @property
    def where(self) -> str:
        """The source file, or ``'in-memory vocabulary'``."""
        return self.source or 'in-memory vocabulary'

    @property
    def num_classes(self) -> int:
        """Number of entries (background included if present)."""
        return len(self.class_names)

    @property
    def dim(self) -> int:
        """Embedding width."""
        return self.embeddings.size(1)

    @property
    def text_model(self) -> Optional[str]:
        """open_clip model name of the text tower, if known."""
        return self.provenance.get('model')

    @property
    def has_background(self) -> bool:
        """Whether a :data:`~mmclipself.vocab.BACKGROUND` entry exists."""
        return BACKGROUND in self.class_names

    def select(self, indices: List[int]) -> 'Vocabulary':
        """A new vocabulary with the entries at ``indices``, in that order.

        Raises:
            ValueError: Nothing selected.
        """
        indices = [int(i) for i in indices]
        # on the embeddings' device: under `with torch.device('meta')` a
        # bare as_tensor would land on the meta device
        idx = torch.as_tensor(
            indices, dtype=torch.long, device=self.embeddings.device)
        return replace(
            self,
            class_names=[self.class_names[i] for i in indices],
            embeddings=self.embeddings[idx],
            per_template=None
            if self.per_template is None else self.per_template[idx])

    def split_background(self) -> Tuple['Vocabulary', Optional[Tensor]]:
        """Separate the background entry from the classes.

        Returns:
            The classes (order kept, background removed) and the background
            embedding ``(D,)``, or ``None`` if there is none.

        Raises:
            ValueError: The vocabulary holds only the background.
        """
        if not self.has_background:
            return self, None
        i = self.class_names.index(BACKGROUND)
        keep = [j for j in range(self.num_classes) if j != i]
        if not keep:
            raise ValueError(f'{self.where} holds no class besides '
                             f'"{BACKGROUND}"')
        return self.select(keep), self.embeddings[i].clone()

    def to_dict(self) -> Dict[str, Any]:
        """The file layout (see :func:`~mmclipself.vocab.save_vocabulary`)."""
        from .file_format import FORMAT_NAME, FORMAT_VERSION
        data = {k: self.provenance.get(k) for k in PROVENANCE_KEYS}
        data.update(
            format=FORMAT_NAME,
            format_version=FORMAT_VERSION,
            class_names=list(self.class_names),
            embeddings=self.embeddings.contiguous(),
            per_template=None
            if self.per_template is None else self.per_template.contiguous())
        return data
