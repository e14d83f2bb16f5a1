# Copyright (c) mmclipself contributors. All rights reserved.
"""Let ``lvis`` 0.5.3 run its evaluation under NumPy >= 1.24 (2.x included).

``lvis`` 0.5.3, the last release on PyPI, still calls the ``np.float`` alias
in ``LVISEval.accumulate`` (``lvis/eval.py``, lines 361-362)::

    tp_sum = np.cumsum(tps, axis=1).astype(dtype=np.float)
    fp_sum = np.cumsum(fps, axis=1).astype(dtype=np.float)

The alias was deprecated in NumPy 1.20 and removed in 1.24, so every LVIS
evaluation (mmdet's ``LVISMetric`` included) fails there with
``AttributeError: module 'numpy' has no attribute 'float'``.

This is a documented, narrow compatibility shim: :func:`numpy_float_alias`
provides ``numpy.float = float`` (exactly what the alias meant) only while an
LVIS evaluation runs, i.e. around ``OVLVISMetric.compute_metrics``, and only
when NumPy lacks the attribute; on exit the attribute is removed again, so
the process outside the ``with`` block sees NumPy unchanged. No function of
``lvis``, mmdet or NumPy is replaced. It is not thread-safe (it sets a module
attribute); LVIS evaluation runs on the main process only. Tested in
``tests/test_utils/test_lvis_compat.py``.
"""
import contextlib
from typing import Iterator

import numpy as np


@contextlib.contextmanager
def numpy_float_alias() -> Iterator[None]:
    """Provide ``numpy.float`` (the builtin ``float``) while active.

    Does nothing when ``numpy.float`` already exists (NumPy < 1.20, or set by
    someone else); otherwise sets it and deletes it on exit, exceptions
    included, unless it was replaced meanwhile. Nested uses are fine: only
    the outermost one that added the alias removes it.

    Yields:
        None
    """
    added = 'float' not in vars(np)
    if added:
        np.float = float
    try:
        yield
    finally:
        if added and vars(np).get('float') is float:
            del np.float
