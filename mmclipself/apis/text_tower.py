# Copyright (c) mmclipself contributors. All rights reserved.
"""The text tower that belongs to a detector's CLIP image tower.

Free-text class names must be encoded by the text tower of the same CLIP
as the detector's frozen image tower: embeddings of another CLIP are in
another space even when they are as wide (OpenAI ViT-B/16 and EVA02-CLIP
B/16 both embed to 512-d), and score garbage without any error.
"""
import os.path as osp
from typing import Any, Mapping, Optional, Tuple

import torch

from mmclipself.models.utils.clip_checkpoint import OPEN_CLIP_SCHEME
from mmclipself.vocab.provenance import text_model_for_tower


def _image_tower(detector: Any) -> Any:
    """The CLIP image tower (module or config) of a detector or config."""
    for key in ('model', 'backbone', 'clip'):
        inner = detector.get(key) if isinstance(
            detector, Mapping) else getattr(detector, key, None)
        if inner is not None:
            detector = inner
    return detector


def _tower_pretrained(tower: Any) -> Optional[str]:
    if isinstance(tower, Mapping):
        return tower.get('pretrained')
    return getattr(tower, 'pretrained', None)


def _tower_name(tower: Any) -> str:
    if isinstance(tower, Mapping):
        return f'{tower.get("type")}(arch={tower.get("arch")!r})'
    return f'{type(tower).__name__}(arch={getattr(tower, "arch", None)!r})'


def has_text_tower(path: str) -> Optional[bool]:
    """Whether a CLIP weight file holds a text tower.

    Only the keys are read (the file is memory-mapped): a full open_clip,
    OpenAI or EVA-CLIP file has a ``token_embedding``; an image-tower file
    (a CLIPSelf-refined tower, :func:`tower_to_open_clip` exports without
    text) has none.

    Returns:
        ``True`` / ``False``, or ``None`` if the keys cannot be read without
        loading the file (e.g. an OpenAI TorchScript archive).
    """
    try:
        if path.endswith('.safetensors'):
            from safetensors import safe_open
            with safe_open(path, framework='pt') as f:
                keys = list(f.keys())
        else:
            obj = torch.load(
                path, map_location='cpu', weights_only=True, mmap=True)
            for key in ('state_dict', 'model'):  # checkpoint containers
                if isinstance(obj, dict) and isinstance(obj.get(key), dict):
                    obj = obj[key]
            if not isinstance(obj, dict):
                return None
            keys = list(obj)
    except Exception:  # noqa: BLE001 - other formats: the encoder decides
        return None
    return any(str(k).endswith('token_embedding.weight') for k in keys)


def detector_text_tower(
        detector: Any,
        text_model: Optional[str] = None,
        text_pretrained: Optional[str] = None) -> Tuple[str, str]:
    """The open_clip text model and weights for a detector's image tower.

    The model name comes from the image tower's ``arch``
    (:func:`~mmclipself.vocab.provenance.text_model_for_tower`); the
    weights from its ``pretrained`` source when that holds the text tower
    too: an ``open_clip://MODEL/TAG`` source or a full CLIP file. A
    CLIPSelf-refined image tower file holds no text tower; the text tower
    of the CLIP it was refined from is the right one (CLIPSelf only tunes
    the image tower).

    Args:
        detector: An F-ViT detector, its config (``model`` or the full
            config) or its image tower.
        text_model: Explicit open_clip model name (overrides the derived
            one).
        text_pretrained: Explicit text weights: a file or
            ``open_clip://MODEL/TAG`` (overrides the derived ones).

    Returns:
        ``(text_model, text_pretrained)``.

    Raises:
        ValueError: The model or weights cannot be derived; the message
            says which argument to pass.
    """
    tower = _image_tower(detector)
    name = text_model or text_model_for_tower(tower)
    if not name:
        raise ValueError(
            f'cannot tell the open_clip model of the image tower '
            f'{_tower_name(tower)}: pass text_model= (the open_clip name of '
            'the CLIP the tower comes from, e.g. "EVA02-B-16", '
            '"ViT-B-16-quickgelu")')
    if text_pretrained:
        return name, text_pretrained
    source = _tower_pretrained(tower)
    if not isinstance(source, str) or not source:
        raise ValueError(
            f'the image tower {_tower_name(tower)} names no pretrained '
            'weights to take the text tower from: pass text_pretrained= '
            f'(e.g. "open_clip://{name}/<tag>" or a full CLIP file)')
    if source.startswith(OPEN_CLIP_SCHEME):
        return name, source
    if osp.isfile(source) and has_text_tower(source) is False:
        raise ValueError(
            f'the image tower\'s weights {source} hold no text tower (an '
            'image-only file, e.g. a CLIPSelf-refined tower): pass '
            'text_pretrained= with the weights of the CLIP it comes from '
            f'(e.g. "open_clip://{name}/<tag>" or the full CLIP file)')
    return name, source
