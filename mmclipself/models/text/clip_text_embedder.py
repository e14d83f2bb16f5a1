# Copyright (c) mmclipself contributors. All rights reserved.
"""Class-name embeddings from a CLIP text tower (open_clip)."""
from typing import Optional, Sequence

import torch
import torch.nn.functional as F
from torch import Tensor

from ..utils.clip_checkpoint import (_format_keys, load_state_dict_file,
                                     resolve_pretrained)
from .prompts import VILD_TEMPLATES, build_prompts


def build_text_model(model_name: str,
                     pretrained: Optional[str] = None,
                     cache_dir: Optional[str] = None):
    """An open_clip CLIP model whose text tower holds ``pretrained`` weights.

    Args:
        model_name: open_clip model name, e.g. ``'EVA02-B-16'``,
            ``'ViT-B-16-quickgelu'``.
        pretrained: File (open_clip, original EVA-CLIP, CLIPSelf release or
            OpenAI layout) or ``open_clip://MODEL/TAG``. ``None`` keeps random
            weights (tests only).
        cache_dir: open_clip download cache.

    Returns:
        The model in eval mode; only its text tower is loaded and used.

    Raises:
        KeyError: Text-tower keys missing from or unexpected in the file.
    """
    import open_clip
    from open_clip.model import convert_to_custom_text_state_dict
    model = open_clip.create_model(model_name, pretrained=None)
    if pretrained is not None:
        path = resolve_pretrained(pretrained, cache_dir)
        state = load_state_dict_file(path)
        if hasattr(model, 'text') and 'token_embedding.weight' in state:
            state = convert_to_custom_text_state_dict(state)
        expected = {
            k
            for k in model.state_dict() if not k.startswith('visual.')
        }
        given = {k: v for k, v in state.items() if not k.startswith('visual.')}
        missing = expected - set(given)
        unexpected = set(given) - expected
        if missing or unexpected:
            raise KeyError(
                f'{path} does not match the text tower of {model_name}: '
                f'{len(missing)} missing keys {_format_keys(missing)}, '
                f'{len(unexpected)} unexpected keys '
                f'{_format_keys(unexpected)}')
        # only text keys are given on purpose; every one of them was checked
        incompatible = model.load_state_dict(given, strict=False)
        assert not incompatible.unexpected_keys
    return model.eval()


@torch.no_grad()
def encode_class_names(model,
                       tokenizer,
                       class_names: Sequence[str],
                       templates: Sequence[str] = VILD_TEMPLATES,
                       this_is: bool = True,
                       batch_size: int = 8,
                       device: str = 'cpu') -> Tensor:
    """Prompt-ensembled, L2-normalised text embeddings, one row per class.

    Each prompt embedding is normalised, the prompts of a class averaged and
    the mean normalised again (ViLD / CLIPSelf release).

    Args:
        model: An open_clip model (``encode_text``).
        tokenizer: Its tokenizer.
        class_names: Raw class names.
        templates: Prompt templates. Defaults to the 63 ViLD templates.
        this_is: "This is ..." prefix (release default).
        batch_size: Classes encoded per forward.
        device: Where to run.

    Returns:
        (C, D) float32 tensor on the CPU.
    """
    if not class_names:
        raise ValueError('no class names to encode')
    model = model.to(device)
    rows = []
    for start in range(0, len(class_names), batch_size):
        names = class_names[start:start + batch_size]
        prompts = [
            p for n in names for p in build_prompts(n, templates, this_is)
        ]
        feats = model.encode_text(tokenizer(prompts).to(device)).float()
        feats = F.normalize(feats, dim=-1).view(len(names), len(templates), -1)
        rows.append(F.normalize(feats.mean(dim=1), dim=-1).cpu())
    return torch.cat(rows)
