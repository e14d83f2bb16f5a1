# Copyright (c) mmclipself contributors. All rights reserved.
"""Make MMEngine checkpoints loadable under ``torch.load(weights_only=True)``.

Since PyTorch 2.6 ``torch.load`` defaults to ``weights_only=True`` and only
unpickles allow-listed globals. MMEngine 0.10.x (``load_from_local``) calls
``torch.load`` without ``weights_only`` while every checkpoint its Runner
writes stores the ``MessageHub`` state: :class:`HistoryBuffer` objects holding
numpy arrays and references to the buffer's statistics methods (pickled as
``getattr(HistoryBuffer, 'mean')``), plus numpy scalars for values such as
best scores. Resuming therefore fails with ``UnpicklingError: Unsupported
global: mmengine.logging.history_buffer.HistoryBuffer``.

This is a documented, narrow compatibility shim: instead of turning the safe
loader off, it adds to PyTorch's public allow-list
(``torch.serialization.add_safe_globals``) exactly what MMEngine writes:
``HistoryBuffer``, numpy's array/dtype/scalar re-constructors, and in place of
the builtin ``getattr`` a restricted version that only resolves
``HistoryBuffer``'s registered statistics methods (the builtin would let a
crafted file call any method of an allowed object, e.g. ``ndarray.tofile``).
It changes no function of MMEngine or PyTorch and is a no-op on PyTorch < 2.4,
which has no allow-list. Tested in tests/test_utils/test_checkpoint_compat.py.
"""
import pickle
from typing import Any, List

import numpy as np
import torch

#: HistoryBuffer's built-in statistics (it adds them to its registry lazily).
_BUILTIN_STATISTICS = frozenset(('min', 'max', 'current', 'mean'))


def _history_buffer_getattr(obj: Any, name: str) -> Any:
    """``getattr`` limited to ``HistoryBuffer``'s statistics methods.

    Args:
        obj: The object the pickle asks an attribute of.
        name: The attribute name.

    Returns:
        The statistics method, e.g. ``HistoryBuffer.mean``.

    Raises:
        pickle.UnpicklingError: For anything else.
    """
    from mmengine.logging import HistoryBuffer
    allowed = _BUILTIN_STATISTICS | set(HistoryBuffer._statistics_methods)
    if obj is HistoryBuffer and name in allowed:
        return getattr(HistoryBuffer, name)
    raise pickle.UnpicklingError(
        f'mmclipself safe loading: getattr({obj!r}, {name!r}) is not allowed; '
        'only HistoryBuffer statistics methods are (see '
        'mmclipself/utils/checkpoint_compat.py)')


def mmengine_checkpoint_globals() -> List[Any]:
    """Globals found in checkpoints written by MMEngine's Runner.

    Returns:
        Entries for ``torch.serialization.add_safe_globals``: MMEngine's
        ``HistoryBuffer``, what numpy needs to rebuild arrays, dtypes and
        scalars, and the restricted ``getattr`` under the builtin's name.
    """
    from mmengine.logging import HistoryBuffer

    try:  # numpy >= 2 moved the pickling helpers to numpy._core.
        from numpy._core.multiarray import _reconstruct, scalar
    except ImportError:  # pragma: no cover - numpy < 2
        from numpy.core.multiarray import _reconstruct, scalar

    dtype_classes = {
        type(np.dtype(t))
        for t in (np.bool_, np.int8, np.uint8, np.int16, np.int32, np.int64,
                  np.float16, np.float32, np.float64)
    }
    return [
        HistoryBuffer, np.ndarray, np.dtype, _reconstruct, scalar,
        *sorted(dtype_classes, key=lambda c: c.__name__),
        (_history_buffer_getattr, 'builtins.getattr')
    ]


def register_mmengine_safe_globals() -> bool:
    """Allow-list MMEngine's checkpoint globals for the safe ``torch.load``.

    Returns:
        ``True`` if they were registered, ``False`` when this PyTorch has no
        allow-list (before 2.4, where ``weights_only`` is off by default).
    """
    add_safe_globals = getattr(torch.serialization, 'add_safe_globals', None)
    if add_safe_globals is None:
        return False
    add_safe_globals(mmengine_checkpoint_globals())
    return True
