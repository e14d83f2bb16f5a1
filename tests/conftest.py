# Copyright (c) mmclipself contributors. All rights reserved.
import pytest

from mmclipself.utils import register_all_modules


@pytest.fixture(autouse=True, scope='session')
def _mmclipself_default_scope():
    """Build config dicts under the mmclipself scope, as the Runner does."""
    register_all_modules(init_default_scope=True)


@pytest.fixture(autouse=True)
def _restore_default_scope(_mmclipself_default_scope):
    """Start every test in the mmclipself scope.

    A Runner (or ``init_default_scope``) makes its config's scope current for
    the rest of the process, and the detection configs run in 'mmdet'.
    """
    from mmengine.registry import DefaultScope
    with DefaultScope.overwrite_default_scope('mmclipself'):
        yield
