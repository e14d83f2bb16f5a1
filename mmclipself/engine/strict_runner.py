# Copyright (c) mmclipself contributors. All rights reserved.
"""MMEngine's Runner, loading ``load_from`` and ``--resume`` strictly."""
from typing import Callable, Union

from mmengine.model import is_model_wrapper
from mmengine.runner import Runner
from mmengine.runner.checkpoint import CheckpointLoader

from mmclipself.registry import RUNNERS
from .strict_loading import checkpoint_state_dict, load_state_dict_strictly


@RUNNERS.register_module()
class StrictRunner(Runner):
    """A ``Runner`` whose checkpoints load every tensor or fail.

    MMEngine's ``Runner.load_checkpoint`` (used for ``load_from``, by
    ``tools/test.py CONFIG CKPT`` and by ``resume``) defaults to
    ``strict=False``: a renamed key or a wrong-shaped tensor only logs a
    warning and the run goes on with a random layer. Here ``strict``
    defaults to ``True`` and a mismatch raises
    :class:`~mmclipself.engine.strict_loading.CheckpointMismatchError`
    naming the file and the keys (see
    :func:`~mmclipself.engine.strict_loading.load_state_dict_strictly`).

    Selected by ``runner_type = 'mmclipself.StrictRunner'`` in
    ``configs/_base_/default_runtime.py``; ``tools/train.py``,
    ``tools/test.py`` and MMDetection's / MMSegmentation's own scripts
    build it through ``RUNNERS.build(cfg)``.
    """

    def load_checkpoint(self,
                        filename: str,
                        map_location: Union[str, Callable] = 'cpu',
                        strict: bool = True,
                        revise_keys: list = [(r'^module\.', '')]) -> dict:
        """Load ``filename`` into the model, strictly by default.

        Args:
            filename: Local path or URL of the checkpoint.
            map_location: Where the tensors go (as MMEngine's).
            strict: ``False`` falls back to MMEngine's lenient loading.
            revise_keys: ``(pattern, replacement)`` pairs applied to the
                keys (default: strip a ``module.`` prefix).

        Returns:
            The whole checkpoint dict (meta, optimizer ...).

        Raises:
            CheckpointMismatchError: The weights are not the model's.
        """
        if not strict:
            return super().load_checkpoint(filename, map_location, strict,
                                           revise_keys)
        checkpoint = CheckpointLoader.load_checkpoint(
            filename, map_location=map_location)
        if not isinstance(checkpoint, dict):
            raise RuntimeError(f'{filename} holds no checkpoint dict')
        self.call_hook('after_load_checkpoint', checkpoint=checkpoint)
        model = self.model.module if is_model_wrapper(
            self.model) else self.model
        load_state_dict_strictly(
            model, checkpoint_state_dict(checkpoint, revise_keys), filename)
        self._has_loaded = True
        self.logger.info(f'Load checkpoint from {filename}')
        return checkpoint
