# Copyright (c) mmclipself contributors. All rights reserved.
from .clip_text_embedder import build_text_model, encode_class_names
from .prompts import (SINGLE_TEMPLATE, TEMPLATES, VILD_TEMPLATES,
                      build_prompts, clean_name)

__all__ = [
    'build_text_model', 'encode_class_names', 'build_prompts', 'clean_name',
    'VILD_TEMPLATES', 'SINGLE_TEMPLATE', 'TEMPLATES'
]
