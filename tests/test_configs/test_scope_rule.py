# Copyright (c) mmclipself contributors. All rights reserved.
"""Every ``type`` in every config follows the scope rule (README).

The rule: mmclipself's own types are written ``mmclipself.X`` everywhere and
are the only prefixed names; every other type (MMEngine, MMCV, MMDetection,
MMSegmentation) is unprefixed and resolves in the scope it is built in.

Each config is walked the way MMEngine builds it: a ``type`` is looked up in
the scope of the nearest enclosing dict that sets ``_scope_``, else in the
config's ``default_scope``; a ``scope.`` prefix chooses the registry of that
one lookup. A type resolves if any root registry of MMEngine finds it after
``switch_scope_and_registry(scope)``, as ``Registry.build`` does.
"""
import ast
import glob
import logging
import os.path as osp
from typing import Dict, List, Optional, Set

import mmcv.ops
import mmengine.registry as mmengine_registry
import pytest
from mmengine.config import Config
from mmengine.logging import MMLogger
from mmengine.registry import Registry

import mmclipself.registry  # noqa: F401  (adds our child registries)

REPO = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))
CONFIG_DIR = osp.join(REPO, 'configs')
BASE_DIR = osp.join(CONFIG_DIR, '_base_')
ALL_CONFIGS = sorted(
    glob.glob(osp.join(CONFIG_DIR, '**', '*.py'), recursive=True))
LEAF_CONFIGS = [c for c in ALL_CONFIGS if not c.startswith(BASE_DIR)]
BASE_CONFIGS = [c for c in ALL_CONFIGS if c.startswith(BASE_DIR)]
OURS = 'mmclipself'

#: Root registries of MMEngine (their children are the libraries' ones).
ROOTS = [
    r for r in vars(mmengine_registry).values()
    if isinstance(r, Registry) and r.parent is None
]
#: ``type`` keys that are not registry lookups: their consumer reads the
#: name from ``mmcv.ops`` (``batched_nms`` and MMDetection's
#: ``BaseRoIExtractor.build_roi_layers``).
MMCV_OPS_KEYS = ('nms', 'roi_layer')


def _rel(path: str) -> str:
    return osp.relpath(path, REPO)


def resolve(name: str, scope: str) -> List[type]:
    """What ``name`` resolves to in ``scope``, over all root registries."""
    found = []
    logger = MMLogger.get_current_instance()
    level = logger.level
    # a root without a child of this scope falls back to itself, with a
    # warning that is expected here
    logger.setLevel(logging.ERROR)
    try:
        for root in ROOTS:
            with root.switch_scope_and_registry(scope) as registry:
                try:
                    obj = registry.get(name)
                except (KeyError, RuntimeError):
                    obj = None
            if obj is not None and obj not in found:
                found.append(obj)
    finally:
        logger.setLevel(level)
    return found


def check_types(cfg: dict, default_scope: str) -> List[str]:
    """Every violation of the scope rule in a config dict.

    Args:
        cfg: The config (or any dict / list of dicts).
        default_scope: The scope of dicts without an enclosing ``_scope_``.

    Returns:
        One message per violation, naming the key path and the type.
    """
    problems: List[str] = []

    def walk(node, scope: str, path: str, key: Optional[str]) -> None:
        if isinstance(node, (list, tuple)):
            for i, item in enumerate(node):
                walk(item, scope, f'{path}[{i}]', key)
            return
        if not isinstance(node, dict):
            return
        scope = node.get('_scope_', scope)
        name = node.get('type')
        where = f'{path or "<top>"}.type={name!r} (scope {scope!r})'
        if isinstance(name, str):
            prefix = name.split('.')[0] if '.' in name else None
            if key in MMCV_OPS_KEYS:
                if prefix is not None or not hasattr(mmcv.ops, name):
                    problems.append(f'{where}: not an mmcv.ops name')
            elif prefix not in (None, OURS):
                problems.append(f'{where}: only mmclipself types are '
                                f'prefixed; write {name.split(".", 1)[1]!r}')
            else:
                found = resolve(name, scope)
                if not found:
                    problems.append(f'{where}: does not resolve')
                elif prefix is None and any(
                        c.__module__.startswith(OURS + '.') for c in found):
                    problems.append(f'{where}: an mmclipself type, write '
                                    f'{OURS}.{name}')
        for k, v in node.items():
            walk(v, scope, f'{path}.{k}' if path else str(k), k)

    walk(dict(cfg), default_scope, '', None)
    return problems


def _bases(path: str) -> List[str]:
    """Local ``_base_`` files of a config, transitively."""
    tree = ast.parse(open(path).read())
    found = []
    for node in tree.body:
        if isinstance(node, ast.Assign) and any(
                getattr(t, 'id', None) == '_base_' for t in node.targets):
            value = ast.literal_eval(node.value)
            for base in [value] if isinstance(value, str) else value:
                if '::' not in base:
                    base = osp.normpath(osp.join(osp.dirname(path), base))
                    found += [base] + _bases(base)
    return found


def _scopes_of_bases() -> Dict[str, Set[str]]:
    """Base file -> the default scopes of the configs that inherit it."""
    scopes: Dict[str, Set[str]] = {b: set() for b in BASE_CONFIGS}
    for leaf in LEAF_CONFIGS:
        scope = Config.fromfile(leaf).get('default_scope')
        for base in _bases(leaf):
            if base in scopes:  # not a leaf config inheriting another
                scopes[base].add(scope)
    return scopes


def test_every_config_is_found():
    folders = {osp.basename(osp.dirname(c)) for c in LEAF_CONFIGS}
    assert folders == {'catseg', 'clipself', 'fvit', 'maskcls'}
    assert len(LEAF_CONFIGS) >= 29 + 52 + 30
    assert len(BASE_CONFIGS) >= 15
    assert len(ROOTS) >= 20  # MODELS, DATASETS, ..., FUNCTIONS


@pytest.mark.parametrize('path', LEAF_CONFIGS, ids=_rel)
def test_config_follows_the_scope_rule(path):
    cfg = Config.fromfile(path)
    scope = cfg.get('default_scope')
    assert scope in ('mmclipself', 'mmdet', 'mmseg'), f'{_rel(path)}: {scope}'
    assert check_types(cfg.to_dict(), scope) == []


def test_base_configs_follow_the_scope_rule():
    # a base file has no scope of its own: it is checked in the default
    # scope of every config that inherits it (and must have one)
    problems = []
    for base, scopes in _scopes_of_bases().items():
        cfg = Config.fromfile(base)
        if not scopes:
            problems.append(f'{_rel(base)}: no config inherits it')
        for scope in {cfg.get('default_scope')} - {None} or scopes:
            problems += [
                f'{_rel(base)}: {p}'
                for p in check_types(cfg.to_dict(), scope)
            ]
    assert problems == []


def test_task_configs_run_in_their_host_scope():
    for path in LEAF_CONFIGS:
        cfg = Config.fromfile(path)
        if path.startswith((osp.join(CONFIG_DIR, 'fvit'),
                            osp.join(CONFIG_DIR, 'maskcls'))):
            # detection and panoptic segmentation (Mask2Former):
            # MMDetection's scope, model dicts built there too
            assert cfg.default_scope == 'mmdet', _rel(path)
            assert cfg.model._scope_ == 'mmdet', _rel(path)
        elif path.startswith(osp.join(CONFIG_DIR, 'catseg')):
            # segmentation: MMSegmentation's scope, model dicts too
            assert cfg.default_scope == 'mmseg', _rel(path)
            assert cfg.model._scope_ == 'mmseg', _rel(path)
        else:
            assert cfg.default_scope == 'mmclipself', _rel(path)
    # the model families of configs/_base_/models are the only dicts that
    # switch scope; everything else follows the default scope
    switching = [
        _rel(p) for p in ALL_CONFIGS if any(
            isinstance(n, ast.keyword) and n.arg == '_scope_'
            for n in ast.walk(ast.parse(open(p).read())))
    ]
    assert switching and all(
        p.startswith('configs/_base_/models/') for p in switching), switching


def test_the_checker_finds_violations():
    bad = dict(
        model=dict(
            type='CLIPSelfDistiller',  # ours without the prefix
            student=dict(type='mmclipself.EVA02CLIPViT')),
        neck=dict(type='FPN'),  # MMDetection's, not reachable from ours
        det=dict(
            _scope_='mmdet',
            type='mmclipself.FViT',
            neck=dict(type='FPN'),  # fine: nested in the mmdet scope
            roi_layer=dict(type='RoIAlign'),  # an mmcv.ops name
            head=dict(type='OVConvFCBBoxHead')),  # ours, unprefixed
        sampler=dict(type='mmdet.AspectRatioBatchSampler'),  # a prefix
        hook=dict(type='NoSuchHook'),
        nms=dict(type='nms_of_nowhere'))
    problems = check_types(bad, 'mmclipself')
    expected = [
        "model.type='CLIPSelfDistiller'", "neck.type='FPN'",
        "det.head.type='OVConvFCBBoxHead'",
        "sampler.type='mmdet.AspectRatioBatchSampler'",
        "hook.type='NoSuchHook'", "nms.type='nms_of_nowhere'"
    ]
    assert len(problems) == len(expected), problems
    for problem, where in zip(sorted(problems), sorted(expected)):
        assert problem.startswith(where), (problem, where)
    assert 'write mmclipself.CLIPSelfDistiller' in ' '.join(problems)
    assert "write 'AspectRatioBatchSampler'" in ' '.join(problems)
    # the same dicts written by the rule pass, in either default scope
    good = dict(
        model=dict(
            type='mmclipself.CLIPSelfDistiller',
            student=dict(type='mmclipself.EVA02CLIPViT')),
        det=dict(
            _scope_='mmdet',
            type='mmclipself.FViT',
            neck=dict(type='FPN'),
            roi_layer=dict(type='RoIAlign'),
            head=dict(type='mmclipself.OVConvFCBBoxHead')),
        hook=dict(type='CheckpointHook'),
        nms=dict(type='nms'))
    assert check_types(good, 'mmclipself') == []
    assert check_types(
        dict(good, sampler=dict(type='AspectRatioBatchSampler')),
        'mmdet') == []
