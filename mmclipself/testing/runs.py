# Copyright (c) mmclipself contributors. All rights reserved.
"""Run ``tools/train.py`` in a subprocess, optionally crashing mid-run.

Used by the crash-and-resume tests: a run that dies right after a checkpoint
and is resumed with ``--resume`` must end as an uninterrupted one.
"""
import os
import os.path as osp
import subprocess
import sys
import textwrap
from typing import Optional, Sequence

#: the repository root (tests run from an editable install)
REPO = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))
#: environment variable read by the crash hook
CRASH_ENV = 'MMCLIPSELF_TEST_CRASH_AT'
#: module written by :func:`write_crash_hook`, for ``custom_imports``
CRASH_MODULE = 'crash_hook'

_CRASH_HOOK_SOURCE = textwrap.dedent(f'''
    """Test-only hook: dies after iteration ${CRASH_ENV}, like a killed job."""
    import os

    from mmengine.hooks import Hook

    from mmclipself.registry import HOOKS


    @HOOKS.register_module()
    class CrashAfterIterForTest(Hook):
        priority = 'LOWEST'  # after CheckpointHook has saved

        def after_train_iter(self, runner, batch_idx, data_batch=None,
                             outputs=None):
            if runner.iter + 1 == int(os.environ.get('{CRASH_ENV}', -1)):
                raise RuntimeError('simulated crash')
''')


def write_crash_hook(directory: str) -> str:
    """Write the ``CrashAfterIterForTest`` hook module into ``directory``.

    Configs load it with ``custom_imports=dict(imports=['crash_hook'])`` and
    ``custom_hooks=[dict(type='mmclipself.CrashAfterIterForTest')]``; put
    ``directory`` on the subprocess's ``PYTHONPATH`` (see
    :func:`train_in_subprocess`).

    Returns:
        The module file path.
    """
    path = osp.join(str(directory), f'{CRASH_MODULE}.py')
    with open(path, 'w') as f:
        f.write(_CRASH_HOOK_SOURCE)
    return path


def train_in_subprocess(config: str,
                        work_dir: str,
                        *extra: str,
                        pythonpath: Sequence[str] = (),
                        cwd: Optional[str] = None,
                        crash_at: Optional[int] = None,
                        timeout: float = 900) -> subprocess.CompletedProcess:
    """``python tools/train.py CONFIG --work-dir WORK_DIR *extra``.

    Args:
        config: Config file.
        work_dir: Work directory of the run.
        *extra: More arguments, e.g. ``'--resume'``.
        pythonpath: Directories prepended to ``PYTHONPATH`` (test modules).
        cwd: Working directory (default: the config's directory).
        crash_at: Make the crash hook raise after this iteration.
        timeout: Seconds before the run is killed.

    Returns:
        The completed process (``returncode``, ``stdout``, ``stderr``).
    """
    env = dict(os.environ)
    env['PYTHONPATH'] = os.pathsep.join(
        [*map(str, pythonpath),
         env.get('PYTHONPATH', '')])
    env.pop(CRASH_ENV, None)
    if crash_at is not None:
        env[CRASH_ENV] = str(crash_at)
    command = [
        sys.executable,
        osp.join(REPO, 'tools', 'train.py'),
        str(config), '--work-dir',
        str(work_dir), *extra
    ]
    return subprocess.run(
        command,
        env=env,
        cwd=cwd or osp.dirname(str(config)),
        capture_output=True,
        text=True,
        timeout=timeout)


_TINY_DISTILL_HEADER = textwrap.dedent('''
    _base_ = ['{repo}/configs/clipself/clipself_tiny-eva02_demo.py']
    custom_imports = dict(imports=['{crash}'], allow_failed_imports=False)
    _images = dict(ann_file='{images}', data_prefix=dict(img_path='{root}'))
    train_dataloader = dict(dataset=_images)
    val_dataloader = dict(dataset=_images)
    test_dataloader = val_dataloader
    model = dict(data_preprocessor=dict(student_size=128))
''')


def write_tiny_distill_config(directory, body: str) -> str:
    """A tiny CLIPSelf run on two scikit-image photos, for train tests.

    Writes into ``directory`` the image list, the crash hook
    (:func:`write_crash_hook`) and ``cfg.py``: the ``make demo`` config on
    ``astronaut.png`` and ``coffee.png`` at a 128 px student, followed by
    ``body`` (schedule, hooks, ... of the test).

    Returns:
        The config path.
    """
    import skimage.data
    directory = str(directory)
    images = osp.join(directory, 'images.txt')
    with open(images, 'w') as f:
        f.write('astronaut.png\ncoffee.png\n')
    write_crash_hook(directory)
    header = _TINY_DISTILL_HEADER.format(
        repo=REPO,
        crash=CRASH_MODULE,
        images=images,
        root=skimage.data.data_dir)
    config = osp.join(directory, 'cfg.py')
    with open(config, 'w') as f:
        f.write(header + textwrap.dedent(body))
    return config
