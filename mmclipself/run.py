# Copyright (c) mmclipself contributors. All rights reserved.
"""Run any Python script with mmclipself imported first.

MMEngine reads ``_base_`` before ``custom_imports``, so a config inheriting
``mmclipself::...`` can only be loaded by a process that imported mmclipself
(see :mod:`mmclipself.utils.config_scope`). Use this to start scripts of
other projects, e.g. MMDetection's own test script::

    python -m mmclipself.run $(python -c "import mmdet, os; \\
        print(os.path.dirname(mmdet.__file__))")/.mim/tools/test.py CFG CKPT
"""
import os.path as osp
import runpy
import sys

import mmclipself  # noqa: F401  registers the mmclipself:: config scope


def main() -> None:
    if len(sys.argv) < 2:
        raise SystemExit('usage: python -m mmclipself.run SCRIPT [ARGS ...]')
    script = sys.argv[1]
    if not osp.isfile(script):
        raise SystemExit(f'mmclipself.run: script not found: {script}')
    sys.argv = sys.argv[1:]
    sys.path.insert(0, osp.dirname(osp.abspath(script)))
    runpy.run_path(script, run_name='__main__')


if __name__ == '__main__':
    main()
