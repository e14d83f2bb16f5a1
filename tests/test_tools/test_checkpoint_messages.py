# Copyright (c) mmclipself contributors. All rights reserved.
"""A corrupt or truncated checkpoint: one line naming the file.

PyTorch's own errors name no file and advise turning the safe loader off
(``weights_only=False``), which is unsafe for a file of unknown origin. The
tools print one line instead; the library raises ``CheckpointReadError``
with PyTorch's error chained.
"""
import os.path as osp
import re
import subprocess
import sys
import zipfile

import pytest
import torch

from mmclipself.models.utils.clip_checkpoint import (CheckpointReadError,
                                                     check_checkpoint_file,
                                                     load_state_dict_file,
                                                     read_torch_file)
from mmclipself.testing.runs import REPO

CONFIG = osp.join(REPO, 'configs', 'clipself', 'clipself_tiny-eva02_demo.py')
#: PyTorch advises "`weights_only=False`" or "`weights_only` set to `False`";
#: our messages never name the option at all
UNSAFE_ADVICE = 'weights_only'


class NotATensor:  # a global PyTorch's safe loader refuses
    pass


def _truncated(path):
    torch.save({'state_dict': {'w': torch.arange(4096.)}}, str(path))
    data = path.read_bytes()
    path.write_bytes(data[:len(data) // 2])  # an interrupted copy
    return path


def _bad_pickle(path):
    # garbage inside the archive's pickle (a damaged disk or copy): the case
    # where PyTorch's own message advises turning the safe loader off
    torch.save({'state_dict': {'w': torch.ones(3)}}, str(path))
    data = bytearray(path.read_bytes())
    with zipfile.ZipFile(str(path)) as archive:
        offset = next(i.header_offset for i in archive.infolist()
                      if i.filename.endswith('/data.pkl'))
    start = data.index(b'\x80\x02', offset)  # pickle protocol 2 header
    data[start + 2:start + 12] = b'\xfe' * 10
    path.write_bytes(bytes(data))
    return path


def _tool(*args):
    return subprocess.run([sys.executable, *args],
                          cwd=REPO,
                          capture_output=True,
                          text=True,
                          timeout=300)


def _assert_one_clear_line(res, path):
    assert res.returncode != 0
    # the whole stderr is one line, e.g. "(OSError)" as PyTorch's error type
    assert re.fullmatch(
        f'error: {re.escape(str(path))} is corrupt or truncated: PyTorch '
        r'cannot read it \(\w+\); it was probably not saved, downloaded or '
        r'copied completely\. Fetch or copy it again\.\n', res.stderr), \
        res.stderr[-3000:]
    assert UNSAFE_ADVICE not in res.stdout + res.stderr


def test_library_error_names_the_file_and_chains_pytorch(tmp_path):
    for path in (_truncated(tmp_path / 'a.pth'),
                 _bad_pickle(tmp_path / 'b.pth')):
        for read in (read_torch_file, check_checkpoint_file,
                     load_state_dict_file):
            with pytest.raises(CheckpointReadError) as info:
                read(str(path))
            message = str(info.value)
            assert message.startswith(f'{path} is corrupt or truncated')
            assert UNSAFE_ADVICE not in message and '\n' not in message
            assert info.value.__cause__ is not None  # PyTorch's error
    # the bad pickle is the case where PyTorch advises the unsafe loader
    with pytest.raises(CheckpointReadError) as info:
        read_torch_file(str(tmp_path / 'b.pth'))
    cause = str(info.value.__cause__)
    assert 'with `weights_only` set to `False`' in cause


def test_an_object_the_safe_loader_refuses_is_named(tmp_path):
    path = tmp_path / 'obj.pth'
    checkpoint = dict(state_dict=dict(w=torch.ones(2)), x=NotATensor())
    torch.save(checkpoint, str(path))
    with pytest.raises(CheckpointReadError) as info:
        check_checkpoint_file(str(path))
    message = str(info.value)
    assert message.startswith(
        f'{path} holds a Python object '
        f'({__name__}.NotATensor) that PyTorch\'s safe loader does not '
        'build')
    assert UNSAFE_ADVICE not in message


def test_an_intact_checkpoint_passes_the_check(tmp_path):
    path = tmp_path / 'ok.pth'
    torch.save({'state_dict': {'w': torch.ones(3)}}, str(path))
    check_checkpoint_file(str(path))
    legacy = tmp_path / 'legacy.pth'  # pre-zip format: no memory map
    torch.save({'w': torch.ones(3)},
               str(legacy),
               _use_new_zipfile_serialization=False)
    check_checkpoint_file(str(legacy))
    assert torch.equal(load_state_dict_file(str(legacy))['w'], torch.ones(3))


@pytest.mark.slow  # the tools in subprocesses
def test_tools_test_py_with_a_truncated_checkpoint(tmp_path):
    path = _truncated(tmp_path / 'epoch_6.pth')
    res = _tool('tools/test.py', CONFIG, str(path), '--work-dir',
                str(tmp_path / 'w'))
    _assert_one_clear_line(res, path)


@pytest.mark.slow
def test_tools_train_py_resume_and_load_from(tmp_path):
    bad = _bad_pickle(tmp_path / 'iter_2.pth')
    res = _tool('tools/train.py', CONFIG, '--work-dir', str(tmp_path / 'w'),
                '--resume', str(bad))
    _assert_one_clear_line(res, bad)
    # --resume without a path: the latest checkpoint of the work dir
    work_dir = tmp_path / 'auto'
    work_dir.mkdir()
    latest = _truncated(work_dir / 'iter_4.pth')
    (work_dir / 'last_checkpoint').write_text(str(latest))
    res = _tool('tools/train.py', CONFIG, '--work-dir', str(work_dir),
                '--resume')
    _assert_one_clear_line(res, latest)
    res = _tool('tools/train.py', CONFIG, '--work-dir', str(tmp_path / 'w'),
                '--cfg-options', f'load_from={latest}')
    _assert_one_clear_line(res, latest)


@pytest.mark.slow
def test_converters_with_a_corrupt_checkpoint(tmp_path):
    bad = _bad_pickle(tmp_path / 'distilled.pth')
    res = _tool('tools/model_converters/export_student.py', str(bad),
                str(tmp_path / 'out.pth'))
    _assert_one_clear_line(res, bad)
    truncated = _truncated(tmp_path / 'EVA02_CLIP_B_psz16_s8B.pt')
    res = _tool('tools/model_converters/clip_to_open_clip.py', str(truncated),
                'eva02-b16', str(tmp_path / 'out2.pth'))
    _assert_one_clear_line(res, truncated)
    assert not (tmp_path / 'out.pth').exists()
    assert not (tmp_path / 'out2.pth').exists()
