# Copyright (c) mmclipself contributors. All rights reserved.
"""Registries of mmclipself.

Every registry is a child of the matching MMEngine root registry, so our
modules are reachable from any scope as ``type='mmclipself.X'`` (the one
prefixed name in our configs, see the README's "Config scopes"). ``locations``
lets the registry import the subpackage that defines a module the first time
it is looked up, so configs need no ``custom_imports`` inside this package.
See https://mmengine.readthedocs.io/en/latest/advanced_tutorials/registry.html

Two kinds of registries are declared:

- those that hold our modules: models, datasets, transforms, metrics, hooks
  and inferencers;
- empty scope anchors for the roots MMEngine's Runner builds from under the
  default scope (``switch_scope_and_registry``). The distillation configs
  run in the ``mmclipself`` scope, and without a child registry of that
  scope MMEngine logs "Failed to search registry with scope "mmclipself""
  for every loop, optimiser, scheduler, sampler, visualiser ... it builds
  (and falls back to its root). Roots the Runner never builds that way
  (runner constructors, functions, task utils) have no child.

``RUNNERS`` holds our ``StrictRunner`` (``runner_type`` of the default
runtime), which loads checkpoints strictly.
"""
from mmengine.registry import DATA_SAMPLERS as MMENGINE_DATA_SAMPLERS
from mmengine.registry import DATASETS as MMENGINE_DATASETS
from mmengine.registry import EVALUATOR as MMENGINE_EVALUATOR
from mmengine.registry import HOOKS as MMENGINE_HOOKS
from mmengine.registry import INFERENCERS as MMENGINE_INFERENCERS
from mmengine.registry import LOG_PROCESSORS as MMENGINE_LOG_PROCESSORS
from mmengine.registry import LOOPS as MMENGINE_LOOPS
from mmengine.registry import METRICS as MMENGINE_METRICS
from mmengine.registry import MODEL_WRAPPERS as MMENGINE_MODEL_WRAPPERS
from mmengine.registry import MODELS as MMENGINE_MODELS
from mmengine.registry import \
    OPTIM_WRAPPER_CONSTRUCTORS as MMENGINE_OPTIM_WRAPPER_CONSTRUCTORS
from mmengine.registry import OPTIM_WRAPPERS as MMENGINE_OPTIM_WRAPPERS
from mmengine.registry import OPTIMIZERS as MMENGINE_OPTIMIZERS
from mmengine.registry import PARAM_SCHEDULERS as MMENGINE_PARAM_SCHEDULERS
from mmengine.registry import RUNNERS as MMENGINE_RUNNERS
from mmengine.registry import TRANSFORMS as MMENGINE_TRANSFORMS
from mmengine.registry import VISBACKENDS as MMENGINE_VISBACKENDS
from mmengine.registry import VISUALIZERS as MMENGINE_VISUALIZERS
from mmengine.registry import \
    WEIGHT_INITIALIZERS as MMENGINE_WEIGHT_INITIALIZERS
from mmengine.registry import Registry

# Our modules.
MODELS = Registry(
    'model', parent=MMENGINE_MODELS, locations=['mmclipself.models'])
DATASETS = Registry(
    'dataset', parent=MMENGINE_DATASETS, locations=['mmclipself.datasets'])
TRANSFORMS = Registry(
    'transform', parent=MMENGINE_TRANSFORMS, locations=['mmclipself.datasets'])
METRICS = Registry(
    'metric', parent=MMENGINE_METRICS, locations=['mmclipself.evaluation'])
HOOKS = Registry(
    'hook', parent=MMENGINE_HOOKS, locations=['mmclipself.engine.hooks'])
INFERENCERS = Registry(
    'inferencer', parent=MMENGINE_INFERENCERS, locations=['mmclipself.apis'])
RUNNERS = Registry(
    'runner', parent=MMENGINE_RUNNERS, locations=['mmclipself.engine'])

# Scope anchors (empty): the Runner builds these in the default scope. Their
# locations are where such a module of ours would go.
DATA_SAMPLERS = Registry(
    'data sampler',
    parent=MMENGINE_DATA_SAMPLERS,
    locations=['mmclipself.datasets'])
LOOPS = Registry(
    'loop', parent=MMENGINE_LOOPS, locations=['mmclipself.engine'])
OPTIMIZERS = Registry(
    'optimizer', parent=MMENGINE_OPTIMIZERS, locations=['mmclipself.engine'])
OPTIM_WRAPPERS = Registry(
    'optim_wrapper',
    parent=MMENGINE_OPTIM_WRAPPERS,
    locations=['mmclipself.engine'])
OPTIM_WRAPPER_CONSTRUCTORS = Registry(
    'optimizer wrapper constructor',
    parent=MMENGINE_OPTIM_WRAPPER_CONSTRUCTORS,
    locations=['mmclipself.engine'])
PARAM_SCHEDULERS = Registry(
    'parameter scheduler',
    parent=MMENGINE_PARAM_SCHEDULERS,
    locations=['mmclipself.engine'])
LOG_PROCESSORS = Registry(
    'log_processor',
    parent=MMENGINE_LOG_PROCESSORS,
    locations=['mmclipself.engine'])
VISUALIZERS = Registry(
    'visualizer', parent=MMENGINE_VISUALIZERS, locations=['mmclipself.engine'])
VISBACKENDS = Registry(
    'vis_backend',
    parent=MMENGINE_VISBACKENDS,
    locations=['mmclipself.engine'])
# val_evaluator=dict(type='Evaluator', metrics=...)
EVALUATOR = Registry(
    'evaluator',
    parent=MMENGINE_EVALUATOR,
    locations=['mmclipself.evaluation'])
# distributed training wraps the model through it
MODEL_WRAPPERS = Registry(
    'model_wrapper',
    parent=MMENGINE_MODEL_WRAPPERS,
    locations=['mmclipself.models'])
# init_cfg=dict(type='Pretrained', ...) on any module
WEIGHT_INITIALIZERS = Registry(
    'weight initializer',
    parent=MMENGINE_WEIGHT_INITIALIZERS,
    locations=['mmclipself.models'])
