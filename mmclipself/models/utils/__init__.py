# Copyright (c) mmclipself contributors. All rights reserved.
from .clip_checkpoint import (load_state_dict_file, load_strict,
                              resolve_pretrained, strip_prefix)
from .tower_export import (blend_state_dicts, export_student,
                           save_open_clip_tower, tower_to_open_clip)

__all__ = [
    'blend_state_dicts', 'export_student', 'save_open_clip_tower',
    'tower_to_open_clip', 'load_state_dict_file', 'load_strict',
    'resolve_pretrained', 'strip_prefix'
]
