# Copyright (c) mmclipself contributors. All rights reserved.
"""The one class-name encoder: names -> :class:`Vocabulary`.

Follows the CLIPSelf release (reference facts §1, "Text embeddings"): every
prompt embedding is L2-normalised, the prompts of a class are averaged and
the mean is normalised again. The per-template embeddings are kept too
(Cat-Seg's cost volume uses them, segmentation facts §2.2). A class written
with comma-separated synonyms (``'building, edifice'``) gets, per template,
the normalised mean of its synonyms' normalised embeddings (Cat-Seg 2023,
segmentation facts §1.5).
"""
from typing import Any, Callable, Dict, List, Mapping, Optional, Sequence

import torch
import torch.nn as nn
import torch.nn.functional as F
from torch import Tensor

from .class_names import check_class_names, split_synonyms
from .file_format import file_fingerprint
from .name_rules import check_rule
from .templates import (VILD_TEMPLATES, TemplatesType, build_prompts,
                        get_templates)
from .vocabulary import Vocabulary


def _device_of(model: nn.Module) -> torch.device:
    p = next(iter(model.parameters()), None)
    return p.device if p is not None else torch.device('cpu')


def _text_provenance(text_model: Any) -> Dict[str, Any]:
    pretrained = getattr(text_model, 'pretrained', None)
    if not isinstance(pretrained, str):
        pretrained = None
    model = getattr(text_model, 'model_name', None)
    return dict(
        model=model if isinstance(model, str) else None,
        pretrained=pretrained,
        weights=file_fingerprint(pretrained))


@torch.no_grad()
def embed_class_names(
        text_model: nn.Module,
        class_names: Sequence[str],
        tokenizer: Optional[Callable] = None,
        templates: TemplatesType = 'vild',
        rule: str = 'release',
        this_is: bool = True,
        batch_size: int = 8,
        device: Optional[str] = None,
        provenance: Optional[Mapping[str, Any]] = None) -> Vocabulary:
    """Encode class names with a CLIP text tower into a vocabulary.

    Args:
        text_model: Anything with ``encode_text(token_ids) -> (N, D)``: a
            :class:`~mmclipself.models.CLIPTextEncoder` or an open_clip
            model. Its ``model_name`` / ``pretrained`` attributes, if any,
            are recorded.
        class_names: Class names in order; a name may hold comma-separated
            synonyms. Include ``'background'`` for F-ViT's classifier.
        tokenizer: Turns a list of prompts into token ids; defaults to
            ``text_model.tokenizer``.
        templates: A template set name (``'vild'``: the 63 ViLD prompts,
            ``'single'``) or a list of templates.
        rule: Name clean-up rule (``'release'`` or ``'panoptic'``).
        this_is: "This is ..." prefix (release default).
        batch_size: Classes encoded per forward.
        device: Where to run (the model is moved there); default: where
            its parameters are.
        provenance: Entries that override the recorded provenance (e.g.
            ``model`` for an open_clip model without ``model_name``).

    Returns:
        A :class:`Vocabulary` with ``embeddings`` (C, D) and
        ``per_template`` (C, P, D), float32 on the CPU.

    Raises:
        ValueError: Empty or repeated names, a name empty after clean-up,
            unknown templates or rule, no tokenizer.
    """
    names = check_class_names(list(class_names), 'the class list')
    set_name, tmpl = get_templates(templates)
    check_rule(rule)
    tokenizer = tokenizer or getattr(text_model, 'tokenizer', None)
    if tokenizer is None:
        raise ValueError('no tokenizer: pass one, or a text model with a '
                         '`tokenizer` attribute')
    if batch_size < 1:
        raise ValueError(f'batch_size must be >= 1, got {batch_size}')
    if device is not None:
        text_model = text_model.to(device)
    dev = _device_of(text_model)
    # (class, synonym prompts) in order; every class contributes S x P rows
    prompts = [[
        build_prompts(s, tmpl, this_is, rule) for s in split_synonyms(n)
    ] for n in names]
    rows: List[Tensor] = []
    for start in range(0, len(names), batch_size):
        chunk = prompts[start:start + batch_size]
        flat = [p for syns in chunk for prompts_ in syns for p in prompts_]
        feats = text_model.encode_text(tokenizer(flat).to(dev)).float()
        feats = F.normalize(feats, dim=-1).cpu()
        offset = 0
        for syns in chunk:
            n = len(syns) * len(tmpl)
            per = feats[offset:offset + n].view(len(syns), len(tmpl), -1)
            rows.append(F.normalize(per.mean(dim=0), dim=-1))
            offset += n
    per_template = torch.stack(rows)  # (C, P, D), unit rows
    embeddings = F.normalize(per_template.mean(dim=1), dim=-1)
    record = _text_provenance(text_model)
    record.update(
        templates=set_name,
        prompt_templates=list(tmpl),
        rule=rule,
        this_is=bool(this_is))
    record.update(provenance or {})
    return Vocabulary(
        class_names=names,
        embeddings=embeddings,
        per_template=per_template,
        provenance=record)


def encode_class_names(model: nn.Module,
                       tokenizer: Callable,
                       class_names: Sequence[str],
                       templates: TemplatesType = VILD_TEMPLATES,
                       this_is: bool = True,
                       batch_size: int = 8,
                       device: str = 'cpu') -> Tensor:
    """The ``(C, D)`` ensembled embeddings of :func:`embed_class_names`.

    Kept for callers of the former API; release clean-up rule.
    """
    return embed_class_names(
        model,
        class_names,
        tokenizer=tokenizer,
        templates=templates,
        this_is=this_is,
        batch_size=batch_size,
        device=device).embeddings
