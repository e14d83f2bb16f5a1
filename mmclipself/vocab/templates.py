# Copyright (c) mmclipself contributors. All rights reserved.
"""Prompt templates and the prompts of one class name.

``VILD_TEMPLATES`` are the 63 prompts of ViLD (Gu et al., ICLR 2022,
google-research, Apache-2.0), which the CLIPSelf release and F-ViT use
(reference facts §1, "Text embeddings").
"""
from typing import List, Sequence, Tuple, Union

from .name_rules import clean_name

VILD_TEMPLATES = (
    'There is {article} {} in the scene.',
    'There is the {} in the scene.',
    'a photo of {article} {} in the scene.',
    'a photo of the {} in the scene.',
    'a photo of one {} in the scene.',
    'itap of {article} {}.',
    'itap of my {}.',
    'itap of the {}.',
    'a photo of {article} {}.',
    'a photo of my {}.',
    'a photo of the {}.',
    'a photo of one {}.',
    'a photo of many {}.',
    'a good photo of {article} {}.',
    'a good photo of the {}.',
    'a bad photo of {article} {}.',
    'a bad photo of the {}.',
    'a photo of a nice {}.',
    'a photo of the nice {}.',
    'a photo of a cool {}.',
    'a photo of the cool {}.',
    'a photo of a weird {}.',
    'a photo of the weird {}.',
    'a photo of a small {}.',
    'a photo of the small {}.',
    'a photo of a large {}.',
    'a photo of the large {}.',
    'a photo of a clean {}.',
    'a photo of the clean {}.',
    'a photo of a dirty {}.',
    'a photo of the dirty {}.',
    'a bright photo of {article} {}.',
    'a bright photo of the {}.',
    'a dark photo of {article} {}.',
    'a dark photo of the {}.',
    'a photo of a hard to see {}.',
    'a photo of the hard to see {}.',
    'a low resolution photo of {article} {}.',
    'a low resolution photo of the {}.',
    'a cropped photo of {article} {}.',
    'a cropped photo of the {}.',
    'a close-up photo of {article} {}.',
    'a close-up photo of the {}.',
    'a jpeg corrupted photo of {article} {}.',
    'a jpeg corrupted photo of the {}.',
    'a blurry photo of {article} {}.',
    'a blurry photo of the {}.',
    'a pixelated photo of {article} {}.',
    'a pixelated photo of the {}.',
    'a black and white photo of the {}.',
    'a black and white photo of {article} {}.',
    'a plastic {}.',
    'the plastic {}.',
    'a toy {}.',
    'the toy {}.',
    'a plushie {}.',
    'the plushie {}.',
    'a cartoon {}.',
    'the cartoon {}.',
    'an embroidered {}.',
    'the embroidered {}.',
    'a painting of the {}.',
    'a painting of a {}.',
)
SINGLE_TEMPLATE = ('a photo of {article} {}.', )
#: The 80 ImageNet prompts of OpenAI CLIP (its "Prompt Engineering for
#: ImageNet" notebook; open_clip's ``OPENAI_IMAGENET_TEMPLATES``), in that
#: order: Cat-Seg 2023's text ensemble (segmentation facts §1.5).
IMAGENET_TEMPLATES = (
    'a bad photo of a {}.',
    'a photo of many {}.',
    'a sculpture of a {}.',
    'a photo of the hard to see {}.',
    'a low resolution photo of the {}.',
    'a rendering of a {}.',
    'graffiti of a {}.',
    'a bad photo of the {}.',
    'a cropped photo of the {}.',
    'a tattoo of a {}.',
    'the embroidered {}.',
    'a photo of a hard to see {}.',
    'a bright photo of a {}.',
    'a photo of a clean {}.',
    'a photo of a dirty {}.',
    'a dark photo of the {}.',
    'a drawing of a {}.',
    'a photo of my {}.',
    'the plastic {}.',
    'a photo of the cool {}.',
    'a close-up photo of a {}.',
    'a black and white photo of the {}.',
    'a painting of the {}.',
    'a painting of a {}.',
    'a pixelated photo of the {}.',
    'a sculpture of the {}.',
    'a bright photo of the {}.',
    'a cropped photo of a {}.',
    'a plastic {}.',
    'a photo of the dirty {}.',
    'a jpeg corrupted photo of a {}.',
    'a blurry photo of the {}.',
    'a photo of the {}.',
    'a good photo of the {}.',
    'a rendering of the {}.',
    'a {} in a video game.',
    'a photo of one {}.',
    'a doodle of a {}.',
    'a close-up photo of the {}.',
    'a photo of a {}.',
    'the origami {}.',
    'the {} in a video game.',
    'a sketch of a {}.',
    'a doodle of the {}.',
    'a origami {}.',
    'a low resolution photo of a {}.',
    'the toy {}.',
    'a rendition of the {}.',
    'a photo of the clean {}.',
    'a photo of a large {}.',
    'a rendition of a {}.',
    'a photo of a nice {}.',
    'a photo of a weird {}.',
    'a blurry photo of a {}.',
    'a cartoon {}.',
    'art of a {}.',
    'a sketch of the {}.',
    'a embroidered {}.',
    'a pixelated photo of a {}.',
    'itap of the {}.',
    'a jpeg corrupted photo of the {}.',
    'a good photo of a {}.',
    'a plushie {}.',
    'a photo of the nice {}.',
    'a photo of the small {}.',
    'a photo of the weird {}.',
    'the cartoon {}.',
    'art of the {}.',
    'a drawing of the {}.',
    'a photo of the large {}.',
    'a black and white photo of a {}.',
    'the plushie {}.',
    'a dark photo of a {}.',
    'itap of a {}.',
    'graffiti of the {}.',
    'a toy {}.',
    'itap of my {}.',
    'a photo of a cool {}.',
    'a photo of a small {}.',
    'a tattoo of the {}.',
)
#: Cat-Seg's 8-prompt subset (``IMAGENET_TEMPLATES_SELECT``, facts §1.5).
IMAGENET_SELECT_TEMPLATES = (
    'itap of a {}.',
    'a bad photo of the {}.',
    'a origami {}.',
    'a photo of the large {}.',
    'a {} in a video game.',
    'art of the {}.',
    'a photo of the small {}.',
    'A photo of a {} in the scene',
)
#: Cat-Seg CVPR'24's single prompt (segmentation facts §1.5).
CATSEG_CVPR_TEMPLATE = ('A photo of a {} in the scene', )
#: Named template sets (the ``templates`` entry of a vocabulary file).
TEMPLATES = dict(
    vild=VILD_TEMPLATES,
    single=SINGLE_TEMPLATE,
    imagenet=IMAGENET_TEMPLATES,
    imagenet_select=IMAGENET_SELECT_TEMPLATES,
    catseg_cvpr=CATSEG_CVPR_TEMPLATE)

TemplatesType = Union[str, Sequence[str]]


def get_templates(templates: TemplatesType) -> Tuple[str, Tuple[str, ...]]:
    """A template set by name, or a list of templates.

    Args:
        templates: A key of :data:`TEMPLATES` or a sequence of templates,
            each with one ``{}`` for the name (and optionally
            ``{article}``).

    Returns:
        The set's name (``'custom'`` for a sequence) and its templates.

    Raises:
        ValueError: Unknown name, empty list, or a template without ``{}``.
    """
    if isinstance(templates, str):
        if templates not in TEMPLATES:
            raise ValueError(f'unknown template set {templates!r}; choose '
                             f'from {sorted(TEMPLATES)} or pass a list')
        return templates, TEMPLATES[templates]
    templates = tuple(templates)
    if not templates:
        raise ValueError('the list of prompt templates is empty')
    for t in templates:
        if '{}' not in t:
            raise ValueError(f'prompt template {t!r} has no "{{}}" for the '
                             'class name')
    for name, known in TEMPLATES.items():
        if templates == known:
            return name, known
    return 'custom', templates


def article(name: str) -> str:
    """``'an'`` before a vowel, else ``'a'``."""
    return 'an' if name[:1] in 'aeiou' else 'a'


def build_prompts(name: str,
                  templates: TemplatesType = VILD_TEMPLATES,
                  this_is: bool = True,
                  rule: str = 'release') -> List[str]:
    """All prompts of one class name (one synonym), in template order.

    Args:
        name: Raw class name, cleaned with :func:`clean_name` and ``rule``.
        templates: Templates with ``{}`` for the name and ``{article}``, or
            the name of a set.
        this_is: Prefix prompts starting with "a", "an" or "the" by
            "This is " (ViLD / release).
        rule: Name clean-up rule.

    Raises:
        ValueError: The name is empty after clean-up.
    """
    cleaned = clean_name(name, rule)
    if not cleaned:
        raise ValueError(f'empty class name after clean-up: {name!r}')
    _, templates = get_templates(templates)
    prompts = [t.format(cleaned, article=article(cleaned)) for t in templates]
    if this_is:
        prompts = [
            'This is ' + p if p.startswith(('a ', 'an ', 'the ')) else p
            for p in prompts
        ]
    return prompts
