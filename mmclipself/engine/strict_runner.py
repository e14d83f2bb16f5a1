# Copyright (c) mmclipself contributors. All rights reserved.
"""MMEngine's Runner: strict loading, atomic checkpoint files."""
import os
import os.path as osp
from typing import Callable, Optional, Union

from mmengine.config import Config
from mmengine.model import is_model_wrapper
from mmengine.runner import Runner
from mmengine.runner.checkpoint import CheckpointLoader

from mmclipself.registry import RUNNERS
from .config_checks import check_config_keys
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

    Before anything is built, :meth:`from_cfg` rejects a top-level config
    key that misspells one the Runner reads (``trian_cfg``, ``laod_from``;
    see :mod:`~mmclipself.engine.config_checks`), which MMEngine would
    silently ignore.

    Checkpoints are written atomically (:meth:`save_checkpoint`): a run
    killed while saving never leaves a truncated ``.pth`` in place of a good
    one.

    Selected by ``runner_type = 'mmclipself.StrictRunner'`` in
    ``configs/_base_/default_runtime.py``; ``tools/train.py``,
    ``tools/test.py`` and MMDetection's / MMSegmentation's own scripts
    build it through ``RUNNERS.build(cfg)``.
    """

    @classmethod
    def from_cfg(cls, cfg: Config) -> 'StrictRunner':
        """``Runner.from_cfg`` after :func:`check_config_keys`."""
        check_config_keys(cfg)
        return super().from_cfg(cfg)

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

    def save_checkpoint(self,
                        out_dir: str,
                        filename: str,
                        file_client_args: Optional[dict] = None,
                        save_optimizer: bool = True,
                        save_param_scheduler: bool = True,
                        meta: Optional[dict] = None,
                        by_epoch: bool = True,
                        backend_args: Optional[dict] = None) -> None:
        """MMEngine's ``save_checkpoint``, whole or not at all.

        MMEngine's local backend writes the checkpoint in place, so a crash,
        a full disk or a kill during the write leaves a truncated file under
        the checkpoint's name (and ``last_checkpoint`` pointing at it). For
        a local ``out_dir`` the checkpoint is written under a hidden
        temporary name in the same folder and renamed over ``filename``
        once complete; on any error the temporary file is removed and an
        earlier file of that name is left as it was. Other storage backends
        (``backend_args`` / ``file_client_args``) are written by MMEngine
        as usual. Arguments as ``Runner.save_checkpoint``.
        """
        kwargs = dict(
            file_client_args=file_client_args,
            save_optimizer=save_optimizer,
            save_param_scheduler=save_param_scheduler,
            meta=meta,
            by_epoch=by_epoch,
            backend_args=backend_args)
        remote = (
            file_client_args is not None or backend_args is not None
            or '://' in str(out_dir))
        if remote:
            super().save_checkpoint(out_dir, filename, **kwargs)
            return
        tmp_name = f'.{filename}.{os.getpid()}.tmp'
        tmp_path, final_path = (osp.join(out_dir, tmp_name),
                                osp.join(out_dir, filename))
        try:
            super().save_checkpoint(out_dir, tmp_name, **kwargs)
            os.replace(tmp_path, final_path)
        except BaseException:
            if osp.exists(tmp_path):
                os.remove(tmp_path)
            raise
