# Copyright (c) mmclipself contributors. All rights reserved.
"""The safe-globals shim: MMEngine checkpoints load with weights_only=True."""
import argparse
import pickle
import subprocess
import sys
import textwrap

import numpy as np
import pytest
import torch
from mmengine.logging import HistoryBuffer

import mmclipself  # noqa: F401  (registers the allow-list)
from mmclipself.utils import register_mmengine_safe_globals


def _runner_like_checkpoint():
    buf = HistoryBuffer()
    for v in (0.5, 0.25, 0.125):
        buf.update(v)
    return dict(
        meta=dict(iter=3, best_score=np.float64(0.75), seed=np.int64(0)),
        state_dict=dict(w=torch.ones(2)),
        message_hub=dict(
            log_scalars={'train/loss': buf},
            runtime_info=dict(max_iters=8, ratio=np.float32(0.5)),
            resumed_keys={'iter': True}))


def test_runner_checkpoint_loads_with_weights_only(tmp_path):
    assert register_mmengine_safe_globals()
    path = tmp_path / 'ckpt.pth'
    torch.save(_runner_like_checkpoint(), path)
    ckpt = torch.load(path, weights_only=True)
    buf = ckpt['message_hub']['log_scalars']['train/loss']
    assert isinstance(buf, HistoryBuffer)
    assert buf.current() == 0.125
    assert buf.mean() == pytest.approx(0.875 / 3)
    assert ckpt['meta']['best_score'] == 0.75
    assert ckpt['message_hub']['runtime_info']['ratio'] == np.float32(0.5)


def test_other_classes_stay_refused(tmp_path):
    # the shim is an allow-list, not a switch that turns safety off
    path = tmp_path / 'evil.pth'
    torch.save({'x': argparse.Namespace(a=1)}, path)
    with pytest.raises(pickle.UnpicklingError, match='Namespace'):
        torch.load(path, weights_only=True)


class _GetattrPickle:
    """Pickles as ``getattr(owner, name)``, like a crafted file would."""

    def __init__(self, owner, name):
        self.owner, self.name = owner, name

    def __reduce__(self):
        return getattr, (self.owner, self.name)


def test_getattr_is_limited_to_history_buffer_statistics(tmp_path):
    # getattr(ndarray, 'tofile') must be refused even though ndarray itself is
    # allowed (it would write files); HistoryBuffer.mean resolves.
    ok = tmp_path / 'ok.pth'
    torch.save({'f': _GetattrPickle(HistoryBuffer, 'mean')}, ok)
    assert torch.load(ok, weights_only=True)['f'] is HistoryBuffer.mean
    bad = tmp_path / 'bad.pth'
    torch.save({'f': _GetattrPickle(np.ndarray, 'tofile')}, bad)
    with pytest.raises(pickle.UnpicklingError, match="'tofile'"):
        torch.load(bad, weights_only=True)


def test_without_the_shim_mmengine_checkpoints_are_refused(tmp_path):
    # In a fresh interpreter that never imported mmclipself, PyTorch refuses
    # a HistoryBuffer: the shim is what makes resume work.
    path = tmp_path / 'ckpt.pth'
    buf = HistoryBuffer()
    buf.update(1.)
    torch.save({'message_hub': {'log_scalars': {'loss': buf}}}, path)
    code = textwrap.dedent(f"""
        import pickle, torch
        try:
            torch.load({str(path)!r}, weights_only=True)
        except pickle.UnpicklingError as e:
            print('REFUSED', 'HistoryBuffer' in str(e))
        else:
            print('LOADED')
    """)
    out = subprocess.run([sys.executable, '-c', code],
                         capture_output=True,
                         text=True,
                         check=True).stdout
    assert out.strip() == 'REFUSED True'
