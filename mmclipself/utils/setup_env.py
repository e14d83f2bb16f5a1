# Copyright (c) mmclipself contributors. All rights reserved.
"""Registering every module, for notebooks, scripts and tests."""
import datetime
import warnings

from mmengine import DefaultScope


def register_all_modules(init_default_scope: bool = True) -> None:
    """Register the modules of mmclipself, MMDetection and MMSegmentation.

    After this call dicts of all three libraries build in one process:
    ``mmclipself.X`` (plain names too while ``mmclipself`` is the default
    scope), and MMDetection's / MMSegmentation's modules in their scope
    (``_scope_='mmdet'``) or as ``mmdet.X`` / ``mmseg.X``. Runner-based tools
    do not need it: the registries' ``locations`` import what a config uses.

    Args:
        init_default_scope: Whether to make ``mmclipself`` the default scope.
            If another default scope is already current, a new
            ``mmclipself`` scope instance is created and a warning explains
            the switch. Defaults to True.
    """
    import mmdet.utils

    import mmclipself.apis  # noqa: F401
    import mmclipself.datasets  # noqa: F401
    import mmclipself.engine  # noqa: F401
    import mmclipself.evaluation  # noqa: F401
    import mmclipself.models  # noqa: F401
    from mmclipself.utils.dependency import WITH_MMSEG

    mmdet.utils.register_all_modules(init_default_scope=False)
    if WITH_MMSEG:
        import mmseg.utils
        mmseg.utils.register_all_modules(init_default_scope=False)

    if not init_default_scope:
        return
    never_created = (
        DefaultScope.get_current_instance() is None
        or not DefaultScope.check_instance_created('mmclipself'))
    if never_created:
        DefaultScope.get_instance('mmclipself', scope_name='mmclipself')
        return
    current_scope = DefaultScope.get_current_instance()
    if current_scope.scope_name != 'mmclipself':
        warnings.warn(f'The current default scope "{current_scope.scope_name}"'
                      ' is not "mmclipself"; register_all_modules switches '
                      'it to "mmclipself". Pass init_default_scope=False if '
                      'that is not wanted.')
        new_instance_name = f'mmclipself-{datetime.datetime.now()}'
        DefaultScope.get_instance(new_instance_name, scope_name='mmclipself')
