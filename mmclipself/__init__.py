# Copyright (c) mmclipself contributors. All rights reserved.
"""mmclipself: CLIPSelf for OpenMMLab (MMEngine, MMDetection 3.x, MMSeg 1.x).

Importing the package checks that the installed OpenMMLab versions are ones
this package supports, makes checkpoints written by MMEngine's Runner
loadable with PyTorch's safe ``torch.load``
(:mod:`mmclipself.utils.checkpoint_compat`) and lets configs inherit ours with
``_base_ = 'mmclipself::...'`` (:mod:`mmclipself.utils.config_scope`).
"""
from .utils.checkpoint_compat import register_mmengine_safe_globals
from .utils.config_scope import register_config_scope
from .utils.version_check import check_dependency_versions
from .version import __version__, version_info

check_dependency_versions()
register_mmengine_safe_globals()
register_config_scope()

__all__ = ['__version__', 'version_info']
