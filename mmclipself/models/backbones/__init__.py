# Copyright (c) mmclipself contributors. All rights reserved.
from .base_clip_vit import BaseCLIPViT
from .clip_vit_pyramid import CLIPViTPyramid
from .eva02_clip_vit import EVA02CLIPViT
from .openai_clip_vit import OpenAICLIPViT

__all__ = ['BaseCLIPViT', 'EVA02CLIPViT', 'OpenAICLIPViT', 'CLIPViTPyramid']
