# Copyright (c) mmclipself contributors. All rights reserved.
"""Import-time checks of the OpenMMLab versions mmclipself supports."""
from importlib import import_module
from typing import Dict, Optional, Tuple

from mmengine.utils import digit_version

#: package -> (minimum inclusive, maximum exclusive, required?)
SUPPORTED_VERSIONS: Dict[str, Tuple[str, str, bool]] = {
    'torch': ('2.1.0', '3.0.0', True),
    'mmcv': ('2.0.0rc4', '2.2.0', True),
    'mmengine': ('0.10.0', '1.0.0', True),
    'mmdet': ('3.3.0', '3.4.0', True),
    'mmseg': ('1.2.2', '1.3.0', False),
}

_HINT = ('mmclipself supports torch>=2.1, mmcv>=2.0.0rc4,<2.2.0 (built with '
         'ops, see tools/install/build_mmcv.sh), mmengine>=0.10.0,<1.0.0, '
         'mmdet>=3.3.0,<3.4.0 and mmsegmentation>=1.2.2,<1.3.0. '
         '`make setup` installs a tested combination.')


def check_dependency_versions(
        supported: Optional[Dict[str, Tuple[str, str, bool]]] = None) -> None:
    """Raise a clear error if an installed dependency is outside our range.

    Optional packages (mmseg) are only checked when they are installed.

    Args:
        supported: ``{package: (min inclusive, max exclusive, required)}``.
            Defaults to :data:`SUPPORTED_VERSIONS`.

    Raises:
        ImportError: A required package is missing or has an unsupported
            version. The message names the supported versions.
    """
    supported = SUPPORTED_VERSIONS if supported is None else supported
    for name, (low, high, required) in supported.items():
        try:
            module = import_module(name)
        except ImportError as e:
            if required:
                raise ImportError(f'mmclipself needs {name}: {e}. {_HINT}')
            continue
        version = module.__version__.split('+')[0]
        if not digit_version(low) <= digit_version(version) < digit_version(
                high):
            raise ImportError(
                f'{name}=={module.__version__} is installed, but mmclipself '
                f'supports {name}>={low},<{high}. {_HINT}')
