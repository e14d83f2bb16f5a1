# Copyright (c) mmclipself contributors. All rights reserved.
"""Which text tower belongs to an image tower, and the check that they match.

A vocabulary's embeddings only make sense against the image tower of the
same CLIP. OpenAI ViT-B/16 and EVA02-CLIP B/16 both embed to 512-d, so a
width check cannot tell them apart: this compares open_clip model names.
"""
from typing import Any, Mapping, Optional, Tuple

#: open_clip model of each named arch of the mmclipself image towers.
TOWER_TEXT_MODELS = {
    'EVA02CLIPViT': {
        'eva02-b16': 'EVA02-B-16',
        'eva02-l14-336': 'EVA02-L-14-336',
    },
    'OpenAICLIPViT': {
        'vit-b16': 'ViT-B-16-quickgelu',
        'vit-l14': 'ViT-L-14-quickgelu',
        'vit-l14-336': 'ViT-L-14-336-quickgelu',
    },
}
#: The towers' default ``arch`` (used for configs that omit it).
_DEFAULT_ARCH = dict(EVA02CLIPViT='eva02-b16', OpenAICLIPViT='vit-b16')


def _tower_type(tower: Any) -> Optional[str]:
    if isinstance(tower, Mapping):
        t = tower.get('type')
        if isinstance(t, type):
            t = t.__name__
        return t.rsplit('.', 1)[-1] if isinstance(t, str) else None
    for cls in type(tower).__mro__:
        if cls.__name__ in TOWER_TEXT_MODELS:
            return cls.__name__
    return None


def text_model_for_tower(tower: Any) -> Optional[str]:
    """The open_clip model name of an mmclipself image tower's CLIP.

    Args:
        tower: An image tower (:class:`~mmclipself.models.EVA02CLIPViT`,
            :class:`~mmclipself.models.OpenAICLIPViT` or a subclass), its
            config dict, or a module / config holding one as ``clip`` (the
            F-ViT backbone).

    Returns:
        E.g. ``'EVA02-B-16'`` for arch ``'eva02-b16'``,
        ``'ViT-B-16-quickgelu'`` for ``'vit-b16'``; ``None`` when unknown
        (a dict arch such as a tiny test tower, another tower type).
    """
    if tower is None:
        return None
    inner = tower.get('clip') if isinstance(tower, Mapping) else getattr(
        tower, 'clip', None)
    if inner is not None and inner is not tower:
        return text_model_for_tower(inner)
    kind = _tower_type(tower)
    if kind not in TOWER_TEXT_MODELS:
        return None
    if isinstance(tower, Mapping):
        arch = tower.get('arch', _DEFAULT_ARCH[kind])
    else:
        arch = getattr(tower, 'arch', None)
    if not isinstance(arch, str):
        return None
    return TOWER_TEXT_MODELS[kind].get(arch)


def text_family(model: str) -> str:
    """A model name up to details that do not change the weights.

    Case, ``/`` versus ``-`` and the ``-quickgelu`` suffix (the activation
    open_clip needs for OpenAI weights) are ignored: ``'ViT-B-16'``,
    ``'ViT-B/16'`` and ``'ViT-B-16-quickgelu'`` are one family;
    ``'EVA02-B-16'`` is another.
    """
    name = model.strip().lower().replace('/', '-')
    if name.endswith('-quickgelu'):
        name = name[:-len('-quickgelu')]
    return name


def check_text_matches_image(vocab: Any, tower: Any, where: str = '') -> bool:
    """Fail when a vocabulary comes from another CLIP than the image tower.

    Args:
        vocab: A :class:`~mmclipself.vocab.Vocabulary`, its provenance dict
            or an open_clip model name.
        tower: An image tower or its config (see
            :func:`text_model_for_tower`), or an open_clip model name.
        where: Context for the message (e.g. ``'bbox_head'``).

    Returns:
        ``True`` if both models are known and match, ``False`` if either
        is unknown (nothing to check).

    Raises:
        ValueError: Both are known and belong to different families; the
            message names the vocabulary file, both models and the fix.
    """
    text, source = _text_model(vocab)
    image = tower if isinstance(tower, str) else text_model_for_tower(tower)
    if not text or not image:
        return False
    if text_family(text) != text_family(image):
        at = f'{where}: ' if where else ''
        raise ValueError(
            f'{at}the vocabulary {source} was encoded by the {text} text '
            f'tower, but the image tower is {image}: its embeddings are in '
            'another space (same width or not). Encode the classes with '
            f'the image tower\'s CLIP: tools/generate_text_embeddings.py '
            f'--model {image} --pretrained <its weights>')
    text_tag = _open_clip_tag(_text_pretrained(vocab))
    image_tag = _open_clip_tag(_tower_pretrained(tower))
    if text_tag and image_tag and text_tag != image_tag:
        at = f'{where}: ' if where else ''
        raise ValueError(
            f'{at}the vocabulary {source} was encoded by the {text} text '
            f'tower with the open_clip weights {text_tag!r}, but the image '
            f'tower loads {image_tag!r}: another CLIP of the same '
            'architecture. Encode the classes with the image tower\'s '
            f'weights (--pretrained open_clip://{image}/{image_tag})')
    return True


def _open_clip_tag(source: Any) -> Optional[str]:
    """``'openai'`` of ``'open_clip://ViT-B-16-quickgelu/openai'``."""
    scheme = 'open_clip://'
    if not isinstance(source, str) or not source.startswith(scheme):
        return None
    tag = source[len(scheme):].partition('/')[2]
    return tag or None


def _tower_pretrained(tower: Any) -> Optional[str]:
    """The ``pretrained`` source of a tower, its config or its holder."""
    if tower is None or isinstance(tower, str):
        return None
    get = tower.get if isinstance(
        tower, Mapping) else (lambda k: getattr(tower, k, None))
    inner = get('clip')
    if inner is not None and inner is not tower:
        return _tower_pretrained(inner)
    return get('pretrained')


def _text_pretrained(vocab: Any) -> Optional[str]:
    if isinstance(vocab, Mapping):
        return vocab.get('pretrained')
    return (getattr(vocab, 'provenance', None) or {}).get('pretrained')


def _text_model(vocab: Any) -> Tuple[Optional[str], str]:
    if vocab is None:
        return None, ''
    if isinstance(vocab, str):
        return vocab, '(given)'
    if isinstance(vocab, Mapping):
        return vocab.get('model'), '(given)'
    provenance = getattr(vocab, 'provenance', None)
    source = getattr(vocab, 'where', None) or '(given)'
    return (provenance or {}).get('model'), source
