# Copyright (c) mmclipself contributors. All rights reserved.
"""Helpers to inspect config files in tests."""
import ast
import os.path as osp


def config_depth(path: str) -> int:
    """Inheritance depth of a config file (0 for a primitive one).

    Only local ``_base_`` files are followed (``mmdet::`` bases count as one
    level and are not opened).
    """
    tree = ast.parse(open(path).read())
    bases = []
    for node in tree.body:
        if isinstance(node, ast.Assign) and any(
                getattr(t, 'id', None) == '_base_' for t in node.targets):
            value = ast.literal_eval(node.value)
            bases = [value] if isinstance(value, str) else list(value)
    depths = []
    for base in bases:
        if '::' in base:
            depths.append(1)
        else:
            depths.append(1 + config_depth(
                osp.normpath(osp.join(osp.dirname(path), base))))
    return max(depths, default=0)
