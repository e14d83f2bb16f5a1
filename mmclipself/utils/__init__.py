# Copyright (c) mmclipself contributors. All rights reserved.
from .checkpoint_compat import (mmengine_checkpoint_globals,
                                register_mmengine_safe_globals)
from .collect_env import collect_env
from .config_scope import register_config_scope
from .dependency import WITH_MMSEG
from .setup_env import register_all_modules
from .version_check import SUPPORTED_VERSIONS, check_dependency_versions

__all__ = [
    'register_all_modules', 'collect_env', 'register_config_scope',
    'register_mmengine_safe_globals', 'mmengine_checkpoint_globals',
    'check_dependency_versions', 'SUPPORTED_VERSIONS', 'WITH_MMSEG'
]
