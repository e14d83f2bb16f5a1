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
            depths.append(
                1 +
                config_depth(osp.normpath(osp.join(osp.dirname(path), base))))
    return max(depths, default=0)


#: Image-tower parameters (millions) of the published architectures, from
#: open_clip's model profile (docs/model_profile.csv, ``image_mparams``):
#: EVA02-B-16, EVA02-L-14-336, ViT-B-16 and ViT-L-14 (OpenAI).
PUBLISHED_TOWER_MPARAMS = {
    ('EVA02CLIPViT', 'eva02-b16'): 86.26,
    ('EVA02CLIPViT', 'eva02-l14-336'): 304.43,
    ('OpenAICLIPViT', 'vit-b16'): 86.19,
    ('OpenAICLIPViT', 'vit-l14'): 303.97,
}


def published_tower_mparams(tower_cfg: dict) -> float:
    """Published parameter count (millions) of a tower config's ``arch``.

    Args:
        tower_cfg: A tower dict, e.g. ``dict(type='mmclipself.EVA02CLIPViT',
            arch='eva02-b16')``.

    Raises:
        KeyError: No published count for that type and arch.
    """
    key = (tower_cfg['type'].split('.')[-1], tower_cfg['arch'])
    if key not in PUBLISHED_TOWER_MPARAMS:
        raise KeyError(f'no published parameter count for {key}')
    return PUBLISHED_TOWER_MPARAMS[key]
