# Copyright (c) mmclipself contributors. All rights reserved.
from .config_checks import ConfigKeyError, check_config_keys
from .hooks import *  # noqa: F401,F403
from .hooks import __all__ as _hooks_all
from .strict_loading import (CheckpointMismatchError, checkpoint_state_dict,
                             load_checkpoint_strictly,
                             load_state_dict_strictly)
from .strict_runner import StrictRunner

__all__ = _hooks_all + [
    'CheckpointMismatchError', 'ConfigKeyError', 'StrictRunner',
    'check_config_keys', 'checkpoint_state_dict', 'load_checkpoint_strictly',
    'load_state_dict_strictly'
]
