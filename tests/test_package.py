# Copyright (c) mmclipself contributors. All rights reserved.
import mmengine.registry as mmengine_registry
import pytest

import mmclipself
from mmclipself import registry

REGISTRIES = [
    'RUNNERS', 'RUNNER_CONSTRUCTORS', 'LOOPS', 'HOOKS', 'OPTIMIZERS',
    'OPTIM_WRAPPERS', 'OPTIM_WRAPPER_CONSTRUCTORS', 'PARAM_SCHEDULERS',
    'LOG_PROCESSORS', 'DATASETS', 'DATA_SAMPLERS', 'TRANSFORMS', 'MODELS',
    'MODEL_WRAPPERS', 'WEIGHT_INITIALIZERS', 'TASK_UTILS', 'METRICS',
    'EVALUATOR', 'VISUALIZERS', 'VISBACKENDS', 'INFERENCERS', 'FUNCTIONS'
]


def test_version():
    assert mmclipself.__version__.count('.') == 2
    assert mmclipself.version_info == tuple(
        int(x) for x in mmclipself.__version__.split('.'))


@pytest.mark.parametrize('name', REGISTRIES)
def test_registries_are_children_of_mmengine_roots(name):
    child = getattr(registry, name)
    root = getattr(mmengine_registry, name)
    assert child.parent is root
    assert child.scope == 'mmclipself'
    assert root.children['mmclipself'] is child
    # locations let the registry import our modules lazily
    assert child._locations and all(
        loc.startswith('mmclipself.') for loc in child._locations)


def test_models_registry_imports_its_location_lazily():
    # 'CosineSimilarityLoss' lives in mmclipself.models, reached through
    # MODELS' locations without importing it here.
    loss_cls = registry.MODELS.get('CosineSimilarityLoss')
    assert loss_cls.__module__ == (
        'mmclipself.models.losses.cosine_similarity_loss')
