# Copyright (c) mmclipself contributors. All rights reserved.
"""The F-ViT benchmark runs on a tiny config on the CPU."""
import importlib.util
import os.path as osp
import re

import pytest

from mmclipself.testing.fvit import (EMBED_DIM, tiny_fvit_config, write_tower,
                                     write_vocabulary)

REPO = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))
# times a detector end to end
pytestmark = pytest.mark.slow


def _load_script():
    path = osp.join(REPO, 'tools', 'analysis', 'benchmark_fvit.py')
    spec = importlib.util.spec_from_file_location('benchmark_fvit', path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.fixture(scope='module')
def tiny_config(tmp_path_factory):
    d = tmp_path_factory.mktemp('benchmark_fvit')
    vocab = write_vocabulary(d / 'vocab.pt', ['person', 'cat', 'cup'])
    cfg = tiny_fvit_config('configs/fvit/fvit_eva-vitb16_ov-coco.py',
                           write_tower(d / 'tower.pth'), vocab)
    cfg.dump(str(d / 'tiny_fvit.py'))
    return str(d / 'tiny_fvit.py'), d


def _number(out, key):
    match = re.search(rf'^{re.escape(key)}: ([0-9.]+)', out, re.M)
    assert match, f'no "{key}" in:\n{out}'
    return float(match.group(1))


def test_benchmark_prints_throughput(tiny_config, capsys):
    config, _ = tiny_config
    _load_script().main([
        config, '--num-iters', '2', '--warmup', '1', '--batch-size', '2',
        '--amp-dtype', 'fp32', '--device', 'cpu'
    ])
    out = capsys.readouterr().out
    assert 'cpu, fp32, batch 2, input 128x128, 3 classes' in out
    ms, ips = _number(out, 'ms/image'), _number(out, 'images/s')
    assert ms > 0 and ips == pytest.approx(1e3 / ms, rel=0.02)
    assert 'peak GPU memory' not in out  # CUDA only


def test_benchmark_uses_a_random_vocabulary_if_missing(tiny_config, capsys):
    config, d = tiny_config
    _load_script().main([
        config, '--num-iters', '1', '--warmup', '0', '--image-size', '96',
        '--vocabulary',
        str(d / 'missing.pt'), '--num-classes', '7', '--device', 'cpu'
    ])
    out = capsys.readouterr().out
    assert f'7 random {EMBED_DIM}-d class embeddings' in out
    assert 'input 96x96, 7 classes' in out
    assert _number(out, 'images/s') > 0


def test_benchmark_refuses_amp_on_cpu(tiny_config):
    config, _ = tiny_config
    with pytest.raises(SystemExit, match='needs a CUDA device'):
        _load_script().main([config, '--amp-dtype', 'bf16', '--device', 'cpu'])
