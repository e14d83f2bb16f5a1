# Copyright (c) mmclipself contributors. All rights reserved.
from .clip_checkpoint import (load_state_dict_file, load_strict,
                              resolve_pretrained, strip_prefix)

__all__ = [
    'load_state_dict_file', 'load_strict', 'resolve_pretrained', 'strip_prefix'
]
