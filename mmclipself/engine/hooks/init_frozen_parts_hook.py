# Copyright (c) mmclipself contributors. All rights reserved.
from mmengine.hooks import Hook
from mmengine.model import is_model_wrapper

from mmclipself.models.utils.frozen import init_frozen_parts
from mmclipself.registry import HOOKS


@HOOKS.register_module()
class InitFrozenPartsHook(Hook):
    """Read the weights of the model's frozen parts before any checkpoint.

    Checkpoints leave frozen parts (F-ViT's CLIP tower, the distiller's
    teacher) out and restore them from the model's own, fingerprint-checked
    weights (:mod:`mmclipself.models.utils.frozen`). MMEngine's ``Runner``
    calls ``init_weights`` only in ``train()``; ``test()`` and ``val()`` go
    straight from ``before_run`` to ``load_or_resume``. This hook
    initialises, in ``before_run``, every frozen part not initialised yet,
    so ``tools/test.py CONFIG CKPT`` (ours or MMDetection's) restores the
    full model. In ``train()`` the parts it initialises are skipped by
    ``init_weights`` (MMEngine skips initialised children), so no file is
    read twice.

    It is one of the ``default_hooks`` of ``configs/_base_/default_runtime.py``
    (a dict merged by key, so configs that replace ``custom_hooks`` keep it).
    """

    priority = 'VERY_HIGH'  # before hooks that copy the model (e.g. EMA)

    def before_run(self, runner) -> None:
        model = runner.model.module if is_model_wrapper(
            runner.model) else runner.model
        names = init_frozen_parts(model)
        if names:
            runner.logger.info(f'initialised the frozen parts {names}')
