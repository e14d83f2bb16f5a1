# Copyright (c) mmclipself contributors. All rights reserved.
import numpy as np
import pytest

from mmclipself.utils.lvis_compat import numpy_float_alias


def test_alias_only_inside_the_block():
    assert not hasattr(np, 'float')  # NumPy >= 1.24 (2.x here)
    with numpy_float_alias():
        assert np.float is float
        # what lvis 0.5.3 LVISEval.accumulate does with it
        assert np.cumsum([1, 0], axis=0).astype(dtype=np.float).dtype == \
            np.float64
    assert not hasattr(np, 'float')


def test_alias_removed_after_an_exception():
    with pytest.raises(RuntimeError):
        with numpy_float_alias():
            assert np.float is float
            raise RuntimeError
    assert not hasattr(np, 'float')


def test_nested_blocks():
    with numpy_float_alias():
        with numpy_float_alias():
            assert np.float is float
        assert np.float is float
    assert not hasattr(np, 'float')


def test_existing_attribute_left_alone(monkeypatch):
    sentinel = object()
    # simulates a NumPy (or a caller) that already provides np.float
    monkeypatch.setattr(np, 'float', sentinel, raising=False)
    with numpy_float_alias():
        assert np.float is sentinel
    assert np.float is sentinel


def test_alias_replaced_meanwhile_is_kept(monkeypatch):
    sentinel = object()
    with numpy_float_alias():
        monkeypatch.setattr(np, 'float', sentinel)
    assert np.float is sentinel
