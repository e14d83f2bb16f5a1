# Copyright (c) mmclipself contributors. All rights reserved.
import pytest

from mmclipself.utils import register_all_modules


@pytest.fixture(autouse=True, scope='session')
def _mmclipself_default_scope():
    """Build config dicts under the mmclipself scope, as the Runner does."""
    register_all_modules(init_default_scope=True)
