# Copyright (c) mmclipself contributors. All rights reserved.
import sys
import types

import pytest

from mmclipself.utils import SUPPORTED_VERSIONS, check_dependency_versions


@pytest.fixture
def fake_package(monkeypatch):

    def make(version):
        module = types.ModuleType('fake_mm_pkg')
        module.__version__ = version
        monkeypatch.setitem(sys.modules, 'fake_mm_pkg', module)

    return make


def test_installed_stack_is_supported():
    check_dependency_versions()  # raises if the venv is outside the ranges
    assert {'torch', 'mmcv', 'mmengine', 'mmdet'} <= set(SUPPORTED_VERSIONS)


def test_too_new_version_names_supported_range(fake_package):
    fake_package('2.2.0')
    with pytest.raises(ImportError) as e:
        check_dependency_versions({'fake_mm_pkg': ('2.0.0rc4', '2.2.0', True)})
    msg = str(e.value)
    assert 'fake_mm_pkg==2.2.0' in msg
    assert 'fake_mm_pkg>=2.0.0rc4,<2.2.0' in msg
    assert 'mmcv>=2.0.0rc4,<2.2.0' in msg  # the supported stack is named


def test_local_version_suffix_and_prerelease(fake_package):
    fake_package('2.1.0+cu130')
    check_dependency_versions({'fake_mm_pkg': ('2.0.0rc4', '2.2.0', True)})
    fake_package('2.0.0rc3')
    with pytest.raises(ImportError, match='2.0.0rc3'):
        check_dependency_versions({'fake_mm_pkg': ('2.0.0rc4', '2.2.0', True)})


def test_missing_required_and_optional_packages():
    with pytest.raises(ImportError, match='mmclipself needs no_such_pkg_x'):
        check_dependency_versions({'no_such_pkg_x': ('1.0.0', '2.0.0', True)})
    # optional packages are only checked when installed
    check_dependency_versions({'no_such_pkg_x': ('1.0.0', '2.0.0', False)})
