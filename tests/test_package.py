# Copyright (c) mmclipself contributors. All rights reserved.
import mmengine.registry as mmengine_registry
import pytest

import mmclipself
from mmclipself import registry

#: Registries that hold our modules, and empty ones that anchor the
#: 'mmclipself' scope for what MMEngine's Runner builds in the default scope.
REGISTRIES = [
    'MODELS', 'DATASETS', 'TRANSFORMS', 'METRICS', 'HOOKS', 'INFERENCERS',
    'RUNNERS', 'DATA_SAMPLERS', 'LOOPS', 'OPTIMIZERS', 'OPTIM_WRAPPERS',
    'OPTIM_WRAPPER_CONSTRUCTORS', 'PARAM_SCHEDULERS', 'LOG_PROCESSORS',
    'VISUALIZERS', 'VISBACKENDS', 'EVALUATOR', 'MODEL_WRAPPERS',
    'WEIGHT_INITIALIZERS'
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


def test_only_the_declared_registries_exist():
    declared = {
        name
        for name, value in vars(registry).items()
        if isinstance(value, mmengine_registry.Registry)
        and value.scope == 'mmclipself'
    }
    assert declared == set(REGISTRIES)


@pytest.mark.parametrize(
    'name',
    ['MODELS', 'DATASETS', 'TRANSFORMS', 'METRICS', 'HOOKS', 'RUNNERS'])
def test_registries_of_our_modules_are_filled(name):
    child = getattr(registry, name)
    child.import_from_location()
    assert len(child) > 0
    assert all(
        cls.__module__.startswith('mmclipself.')
        for cls in child.module_dict.values())


def test_a_runner_in_our_scope_never_falls_back_to_a_root(tmp_path):
    # Everything the Runner builds in the default scope finds a child
    # registry of 'mmclipself'; a root without one (FUNCTIONS) logs the
    # fallback that the anchors avoid.
    import torch
    from mmengine.model import BaseModel
    from mmengine.registry import FUNCTIONS
    from mmengine.runner import Runner

    class Toy(BaseModel):

        def __init__(self):
            super().__init__()
            self.linear = torch.nn.Linear(2, 1)

        def forward(self, inputs, data_samples=None, mode='tensor'):
            out = self.linear(torch.stack(inputs))
            return dict(loss=out.pow(2).mean()) if mode == 'loss' else out

    runner = Runner(
        model=Toy(),
        work_dir=str(tmp_path),
        default_scope='mmclipself',
        train_dataloader=dict(
            dataset=[dict(inputs=torch.ones(2))] * 4,
            sampler=dict(type='DefaultSampler', shuffle=False),
            collate_fn=dict(type='pseudo_collate'),
            batch_size=2,
            num_workers=0),
        train_cfg=dict(type='IterBasedTrainLoop', max_iters=2),
        optim_wrapper=dict(
            type='OptimWrapper', optimizer=dict(type='SGD', lr=0.1)),
        param_scheduler=dict(type='ConstantLR', factor=1.0),
        visualizer=dict(
            type='Visualizer',
            vis_backends=[dict(type='LocalVisBackend')],
            name='scope_anchor_check'),
        log_processor=dict(type='LogProcessor', by_epoch=False),
        default_hooks=dict(
            logger=dict(type='LoggerHook', interval=1),
            checkpoint=dict(type='CheckpointHook', interval=2)))
    runner.train()
    log_file, = tmp_path.glob('*/*.log')
    fallback = 'Failed to search registry with scope "mmclipself"'
    assert fallback not in log_file.read_text()
    with FUNCTIONS.switch_scope_and_registry(None):
        pass
    assert f'{fallback} in the "function" registry' in log_file.read_text()
