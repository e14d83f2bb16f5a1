# Copyright (c) mmclipself contributors. All rights reserved.
from .hooks import *  # noqa: F401,F403
from .hooks import __all__ as _hooks_all
from .strict_loading import (CheckpointMismatchError, checkpoint_state_dict,
                             load_checkpoint_strictly,
                             load_state_dict_strictly)
from .strict_runner import StrictRunner

__all__ = _hooks_all + [
    'CheckpointMismatchError', 'StrictRunner', 'checkpoint_state_dict',
    'load_checkpoint_strictly', 'load_state_dict_strictly'
]
