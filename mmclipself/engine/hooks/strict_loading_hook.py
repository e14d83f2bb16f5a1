# Copyright (c) mmclipself contributors. All rights reserved.
"""Strict checkpoint loading under any Runner, through a hook."""
from mmengine.hooks import Hook
from mmengine.model import is_model_wrapper

from mmclipself.registry import HOOKS
from ..strict_loading import checkpoint_state_dict, load_state_dict_strictly


@HOOKS.register_module()
class StrictLoadingHook(Hook):
    """Load every checkpoint strictly, whatever Runner the script builds.

    Our configs select :class:`~mmclipself.engine.StrictRunner`
    (``runner_type``), but some host scripts ignore ``runner_type``:
    MMSegmentation 1.2's ``tools/test.py`` always builds MMEngine's
    ``Runner``, whose ``load_checkpoint`` is lenient (a renamed key or a
    wrong shape only warns and the test runs with a random layer). MMEngine
    calls ``after_load_checkpoint`` with the checkpoint right before it
    loads it into the model; here the checkpoint is loaded strictly first
    (:func:`~mmclipself.engine.load_state_dict_strictly`), so a mismatch
    stops the run naming the file and the keys, and a match leaves the
    model with exactly the checkpoint's weights (MMEngine's own load then
    writes the same values again). Under ``StrictRunner``, which already
    loads strictly, the hook does nothing.

    The lowest priority lets other hooks (e.g. ``EMAHook``) edit the
    checkpoint first, as MMEngine's load would see it.

    Args:
        revise_keys: ``(pattern, replacement)`` pairs applied to the keys,
            as MMEngine's default (strip a ``module.`` prefix).
    """

    priority = 'LOWEST'

    def __init__(self, revise_keys=((r'^module\.', ''), )) -> None:
        self.revise_keys = tuple(tuple(p) for p in revise_keys)

    def after_load_checkpoint(self, runner, checkpoint: dict) -> None:
        from ..strict_runner import StrictRunner
        if isinstance(runner, StrictRunner):
            return
        model = runner.model.module if is_model_wrapper(
            runner.model) else runner.model
        source = runner.cfg.get('load_from') or 'the checkpoint'
        load_state_dict_strictly(
            model, checkpoint_state_dict(checkpoint, self.revise_keys),
            str(source))
