# Copyright (c) mmclipself contributors. All rights reserved.
import os
import os.path as osp
from typing import Optional, Set

from mmengine.dist import master_only
from mmengine.hooks import CheckpointHook, Hook
from mmengine.model import is_model_wrapper

from mmclipself.models.utils import export_student, save_open_clip_tower
from mmclipself.registry import HOOKS


@HOOKS.register_module()
class StudentTeacherBlendHook(Hook):
    """Write ``alpha * student + (1 - alpha) * teacher`` next to checkpoints.

    Follows the CLIPSelf release's save-time ensemble (reference facts §2):
    each time MMEngine's ``CheckpointHook`` saves ``epoch_N.pth`` (or
    ``iter_N.pth``), this hook writes ``epoch_N_student_blend{alpha}.pth``
    beside it: the blended student image tower in open_clip format, ready
    for ``pretrained=`` of the mmclipself towers (e.g. the F-ViT backbone),
    for open_clip and for timm. Training continues on the un-blended
    student, and the normal checkpoints (for ``--resume``) are untouched.

    The teacher is taken from the live model (checkpoints leave it out by
    default). Files are written atomically (temporary file, then rename),
    and the hook keeps as many as the ``CheckpointHook`` keeps
    (``max_keep_ckpts``): when it rotates a checkpoint out, the blend file
    of that checkpoint goes too. No other file is ever deleted, and after
    ``--resume`` only the checkpoints saved by the resumed run get a blend:
    the files of earlier checkpoints are never rewritten.

    Args:
        alpha: Student weight; 0.7 for ViT-B/16, 0.95 for ViT-L/14 (release).
            ``1.0`` exports the plain student.
    """

    priority = 'LOWEST'  # after CheckpointHook (VERY_LOW) has saved

    def __init__(self, alpha: float = 0.7) -> None:
        if not 0. <= alpha <= 1.:
            raise ValueError(f'alpha must be in [0, 1], got {alpha}')
        self.alpha = alpha
        self._done: Optional[str] = None
        self._kept: Set[int] = set()

    def blend_path(self, ckpt: str) -> str:
        """The blend file written beside checkpoint ``ckpt``."""
        stem, _ = osp.splitext(ckpt)
        return f'{stem}_student_blend{self.alpha:g}.pth'

    @staticmethod
    def _checkpoint_hook(runner) -> Optional[CheckpointHook]:
        return next((h for h in runner.hooks if isinstance(h, CheckpointHook)),
                    None)

    @staticmethod
    def _kept_ids(runner) -> Set[int]:
        ids = runner.message_hub.get_info('keep_ckpt_ids')
        return set(ids) if ids else set()

    def before_train(self, runner) -> None:
        # after CheckpointHook.before_train: the ids kept when resuming
        self._kept = self._kept_ids(runner)
        # after a resume, `last_ckpt` is the checkpoint resumed from: its
        # blend belongs to that checkpoint and is never rewritten with the
        # student of a later step (None in a fresh run)
        self._done = runner.message_hub.get_info('last_ckpt')
        if self._done and not osp.isfile(self.blend_path(self._done)):
            runner.logger.warning(
                f'{self.blend_path(self._done)} (the blend of the checkpoint '
                'resumed from) does not exist and is not written now; '
                'make it with tools/model_converters/export_student.py '
                f'{self._done} OUT --alpha {self.alpha:g}')

    def _rotate(self, runner) -> None:
        """Delete the blends of the checkpoints rotated out since last time."""
        hook = self._checkpoint_hook(runner)
        kept = self._kept_ids(runner)
        if hook is None or hook.max_keep_ckpts <= 0:
            return
        for step in sorted(self._kept - kept):
            ckpt = osp.join(hook.out_dir, hook.filename_tmpl.format(step))
            path = self.blend_path(ckpt)
            if osp.isfile(path):
                os.remove(path)
                runner.logger.info(f'removed {path} (its checkpoint was '
                                   'rotated out)')
        self._kept = kept

    @master_only
    def _maybe_write(self, runner) -> None:
        ckpt = runner.message_hub.get_info('last_ckpt')
        if not ckpt or ckpt == self._done:
            return
        model = runner.model.module if is_model_wrapper(
            runner.model) else runner.model
        state = export_student(
            model.state_dict(),
            alpha=self.alpha,
            teacher_state=model.teacher.state_dict())
        path = self.blend_path(ckpt)
        save_open_clip_tower(
            state,
            path,
            alpha=self.alpha,
            source=osp.basename(ckpt),
            format='open_clip')
        runner.logger.info(f'wrote the blended student tower '
                           f'(alpha={self.alpha:g}) to {path}')
        self._done = ckpt
        self._rotate(runner)

    def after_train_iter(self,
                         runner,
                         batch_idx: int,
                         data_batch=None,
                         outputs=None) -> None:
        self._maybe_write(runner)

    def after_train_epoch(self, runner) -> None:
        self._maybe_write(runner)
