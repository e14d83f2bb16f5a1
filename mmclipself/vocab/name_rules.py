# Copyright (c) mmclipself contributors. All rights reserved.
"""How a raw class name becomes the words put into a prompt.

Two rules, recorded in every vocabulary file (``rule``):

- ``'release'`` (default): the CLIPSelf release's ``clip_utils`` (reference
  facts §1, "Text embeddings"): ``_`` -> space, ``/`` -> `` or ``, lower
  case. Hyphens stay: LVIS ``bow-tie``, ``flip-flop_(sandal)`` and
  ``ping-pong_ball`` become ``bow-tie``, ``flip-flop (sandal)`` and
  ``ping-pong ball``.
- ``'panoptic'``: the release rule, then COCO-panoptic's ``-merged`` /
  ``-other`` / ``-stuff`` suffixes are dropped and remaining ``-`` become
  spaces (``wall-other-merged`` -> ``wall``, ``playingfield`` unchanged).
  Used only for the COCO-panoptic vocabulary (:func:`default_rule`).

Both also collapse runs of whitespace and strip the ends; CLIP's tokenizer
does the same (``whitespace_clean``), so this never changes the tokens.
"""
import re
from typing import Callable, Dict, Optional

#: Vocabulary keys (:func:`~mmclipself.vocab.get_class_names`) whose
#: default rule is not ``'release'``.
_DEFAULT_RULES = {'coco_panoptic': 'panoptic'}


def _release(name: str) -> str:
    return name.replace('_', ' ').replace('/', ' or ').lower()


def _panoptic(name: str) -> str:
    name = re.sub(r'-(merged|other|stuff)\b', '', _release(name))
    return name.replace('-', ' ')


CLEAN_RULES: Dict[str, Callable[[str], str]] = dict(
    release=_release, panoptic=_panoptic)


def default_rule(vocabulary: Optional[str] = None) -> str:
    """The clean-up rule of a known vocabulary key.

    Args:
        vocabulary: A key of :func:`~mmclipself.vocab.get_class_names`, or
            ``None`` for a user's class list.

    Returns:
        ``'panoptic'`` for ``'coco_panoptic'``, else ``'release'``.
    """
    return _DEFAULT_RULES.get(vocabulary, 'release')


def check_rule(rule: str) -> str:
    """Return ``rule`` if known.

    Raises:
        ValueError: Unknown rule; the message lists the known ones.
    """
    if rule not in CLEAN_RULES:
        raise ValueError(f'unknown name clean-up rule {rule!r}; choose from '
                         f'{sorted(CLEAN_RULES)}')
    return rule


def clean_name(name: str, rule: str = 'release') -> str:
    """The readable form of a class name under a clean-up rule.

    Args:
        name: A raw class name (``'aerosol_can'``, ``'Bowl/Basin'``).
        rule: ``'release'`` or ``'panoptic'`` (see the module docstring).

    Returns:
        The cleaned name; may be empty (``'__'``), callers check.
    """
    return ' '.join(CLEAN_RULES[check_rule(rule)](name).split())
