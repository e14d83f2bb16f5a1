# Copyright (c) mmclipself contributors. All rights reserved.
"""Everything about "the vocabulary", in one place.

- class lists of the benchmarks and user files (:mod:`.class_names`);
- prompt templates (:mod:`.templates`) and name clean-up rules
  (:mod:`.name_rules`);
- base/novel splits (:mod:`.base_classes`);
- the in-memory :class:`Vocabulary`, its file format, loader and caches
  (:mod:`.vocabulary`, :mod:`.file_format`, :mod:`.cache`);
- the encoder (:func:`embed_class_names`);
- which text tower belongs to an image tower (:mod:`.provenance`);
- whether a dataset's classes are the vocabulary, in order
  (:func:`check_class_order`);
- which test classes are seen in training (:func:`seen_class_mask`).

This package does not import the models; the text tower module is
:class:`mmclipself.models.CLIPTextEncoder`.
"""
from .base_classes import (CATEGORIES_SUFFIX, BaseClassSpec, categories_file,
                           category_only, resolve_base_classes)
from .cache import CACHE_ENV, cached_vocabulary_path, default_cache_dir
from .checks import check_class_order
from .class_names import (BACKGROUND, COCO_BASE_48, COCO_NOVEL_17,
                          check_class_names, get_class_names,
                          list_vocabularies, read_class_file, split_synonyms)
from .encoder import embed_class_names, encode_class_names
from .file_format import (clear_vocabulary_cache, file_fingerprint,
                          load_vocabulary, save_vocabulary,
                          vocabulary_from_dict)
from .name_rules import CLEAN_RULES, clean_name, default_rule
from .provenance import (TOWER_TEXT_MODELS, check_text_matches_image,
                         text_family, text_model_for_tower)
from .seen_classes import class_synonyms, seen_class_mask
from .templates import (SINGLE_TEMPLATE, TEMPLATES, VILD_TEMPLATES,
                        TemplatesType, build_prompts, get_templates)
from .vocabulary import PROVENANCE_KEYS, Vocabulary

__all__ = [
    'BACKGROUND', 'COCO_BASE_48', 'COCO_NOVEL_17', 'get_class_names',
    'list_vocabularies', 'read_class_file', 'split_synonyms',
    'check_class_names', 'VILD_TEMPLATES', 'SINGLE_TEMPLATE', 'TEMPLATES',
    'get_templates', 'build_prompts', 'TemplatesType', 'CLEAN_RULES',
    'clean_name', 'default_rule', 'BaseClassSpec', 'resolve_base_classes',
    'CATEGORIES_SUFFIX', 'categories_file', 'category_only', 'Vocabulary',
    'PROVENANCE_KEYS', 'load_vocabulary', 'save_vocabulary',
    'vocabulary_from_dict', 'clear_vocabulary_cache', 'file_fingerprint',
    'CACHE_ENV', 'default_cache_dir', 'cached_vocabulary_path',
    'embed_class_names', 'encode_class_names', 'TOWER_TEXT_MODELS',
    'text_model_for_tower', 'text_family', 'check_text_matches_image',
    'check_class_order', 'seen_class_mask', 'class_synonyms'
]
