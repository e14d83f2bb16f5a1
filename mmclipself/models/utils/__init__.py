# Copyright (c) mmclipself contributors. All rights reserved.
from .clip_checkpoint import (load_state_dict_file, load_strict,
                              resolve_pretrained, strip_prefix)
from .frozen import (FrozenPartMismatchError, FrozenPartsMixin, freeze_module,
                     init_frozen_parts, record_weights, register_frozen_part,
                     weights_fingerprint, weights_record)
from .tower_export import (blend_state_dicts, export_student,
                           save_open_clip_tower, tower_to_open_clip)
from .trainability import set_trainable

__all__ = [
    'blend_state_dicts', 'export_student', 'save_open_clip_tower',
    'tower_to_open_clip', 'load_state_dict_file', 'load_strict',
    'resolve_pretrained', 'strip_prefix', 'FrozenPartMismatchError',
    'FrozenPartsMixin', 'freeze_module', 'init_frozen_parts',
    'record_weights', 'register_frozen_part', 'weights_fingerprint',
    'weights_record', 'set_trainable'
]
