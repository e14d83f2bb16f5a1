# Copyright (c) mmclipself contributors. All rights reserved.
"""Let MMEngine resolve ``_base_ = 'mmclipself::...'`` in configs.

MMEngine 0.10 only accepts the packages listed in its
``mmengine.config.utils.MODULE2PACKAGE`` before ``::`` ("mmengine does not
support to load mmclipself config."). There is no public way to add a
package, so this narrow, documented shim adds one entry,
``'mmclipself' -> 'mmclipself'``, when mmclipself is imported. Mapping to the
import name (not the distribution name) makes MMEngine locate the package
with ``importlib``, which finds the real folder for editable installs too
(see setup.py). Config files are then read from ``mmclipself/.mim/configs``.

Because MMEngine parses ``_base_`` before ``custom_imports``, mmclipself must
be imported before such a config is loaded: our ``tools/`` do it, and
``python -m mmclipself.run SCRIPT ARGS`` does it for any other script (e.g.
MMDetection's ``tools/train.py``). Tested in
tests/test_configs/test_mim_inheritance.py.
"""

SCOPE = 'mmclipself'


def register_config_scope() -> None:
    """Add ``mmclipself`` to the packages MMEngine's ``::`` syntax accepts."""
    from mmengine.config import utils as config_utils
    config_utils.MODULE2PACKAGE.setdefault(SCOPE, SCOPE)
