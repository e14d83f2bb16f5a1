# Copyright (c) mmclipself contributors. All rights reserved.
"""The Cat-Seg benchmark runs on a tiny config on the CPU."""
import importlib.util
import os.path as osp
import re
import subprocess
import sys

import pytest

from mmclipself.testing.catseg import CROP_SIZE, TEST_SIZE, tiny_catseg_config

REPO = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))
SCRIPT = osp.join(REPO, 'tools', 'analysis', 'benchmark_catseg.py')


@pytest.fixture(scope='module')
def tiny_config(tmp_path_factory):
    path = tmp_path_factory.mktemp('benchmark_catseg') / 'tiny_catseg.py'
    tiny_catseg_config(test_vocabulary=['cat', 'sofa', 'wall']).dump(str(path))
    return str(path)


def _number(out, key):
    match = re.search(rf'^{re.escape(key)}: ([0-9.]+)', out, re.M)
    assert match, f'no "{key}" in:\n{out}'
    return float(match.group(1))


@pytest.mark.slow  # trains and tests a model in a subprocess
def test_benchmark_prints_training_and_5_view_inference(tiny_config):
    res = subprocess.run([
        sys.executable, SCRIPT, tiny_config, '--batch-size', '2', '--iters',
        '2', '--warmup', '1', '--with-cp', '--device', 'cpu'
    ],
                         capture_output=True,
                         text=True,
                         timeout=300)
    assert res.returncode == 0, res.stderr[-3000:]
    out = res.stdout
    assert 'cpu, fp32, random weights, activation checkpointing on' in out
    assert (f'train: batch 2, {CROP_SIZE}x{CROP_SIZE} crops, 171 classes'
            in out)
    ms, ips = _number(out, 'train ms/step'), _number(out, 'train images/s')
    # both printed rounded: allow exactly that
    assert ips == pytest.approx(2e3 / ms, rel=0.05 / ms + 0.01 / ips)
    # the release's protocol: 2x2 windows (stride 32 on 80) + global view
    assert (f'test: mode catseg (4 windows + 1 global view), batch 1, '
            f'{TEST_SIZE}x{TEST_SIZE}, 3 classes') in out
    ms, ips = _number(out, 'test ms/image'), _number(out, 'test images/s')
    assert ips == pytest.approx(1e3 / ms, rel=0.005 / ms + 0.01 / ips)
    # on the CPU only the process's peak RSS is measurable, and said so
    for stage in ('train', 'test'):
        assert _number(out,
                       f'{stage} peak RSS (CPU; whole process so far)') > 0
    assert 'GPU memory' not in out


def _main(argv):
    spec = importlib.util.spec_from_file_location('benchmark_catseg', SCRIPT)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    module.main(argv)


def test_benchmark_test_stage_alone_and_refusals(tiny_config, capsys):
    _main([
        tiny_config, '--stage', 'test', '--iters', '1', '--warmup', '0',
        '--test-size', '64', '96', '--test-batch-size', '2', '--device', 'cpu'
    ])
    out = capsys.readouterr().out
    assert 'train' not in out
    # windows of 48 at stride 32 on 64x96: 2 rows x 3 columns
    assert ('test: mode catseg (6 windows + 1 global view), batch 2, '
            '64x96, 3 classes') in out
    with pytest.raises(SystemExit, match='needs a CUDA device'):
        _main([tiny_config, '--amp-dtype', 'bf16', '--device', 'cpu'])
    with pytest.raises(SystemExit, match='must be positive'):
        _main([tiny_config, '--iters', '0', '--device', 'cpu'])
