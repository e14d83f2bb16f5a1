# Copyright (c) mmclipself contributors. All rights reserved.
"""The mask-classification benchmark runs on a tiny config on the CPU."""
import importlib.util
import os.path as osp
import re
import subprocess
import sys

import pytest

from mmclipself.testing.maskcls_flow import TEST_SHORT_SIDE, write_tiny_flow

REPO = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))
SCRIPT = osp.join(REPO, 'tools', 'analysis', 'benchmark_maskcls.py')


@pytest.fixture(scope='module')
def tiny_config(tmp_path_factory):
    return write_tiny_flow(
        tmp_path_factory.mktemp('benchmark_maskcls'))['config']


def _number(out, key):
    match = re.search(rf'^{re.escape(key)}: ([0-9.]+)', out, re.M)
    assert match, f'no "{key}" in:\n{out}'
    return float(match.group(1))


@pytest.mark.slow  # trains and tests a model in a subprocess
def test_benchmark_prints_training_and_inference(tiny_config):
    res = subprocess.run([
        sys.executable, SCRIPT, tiny_config, '--batch-size', '2', '--iters',
        '2', '--warmup', '1', '--train-size', '64', '--device', 'cpu'
    ],
                         capture_output=True,
                         text=True,
                         timeout=300)
    assert res.returncode == 0, res.stderr[-3000:]
    out = res.stdout
    assert 'device: cpu, fp32, random weights' in out
    assert ('model: ResNet mask generator, OpenAICLIPViT CLIP tower '
            '(separate), 6 queries') in out
    assert ('train: batch 2, 64x64 crops, 4 classes, 16 segments per '
            'image, Mask2Former AdamW') in out
    ms, ips = _number(out, 'train ms/step'), _number(out, 'train images/s')
    # both printed rounded: allow exactly that
    assert ips == pytest.approx(2e3 / ms, rel=0.05 / ms + 0.01 / ips)
    # ADE-like: the test Resize's short side at 4:3
    width = round(TEST_SHORT_SIDE * 4 / 3)
    assert (f'test: clip_mode fused, batch 1, {TEST_SHORT_SIDE}x{width}, '
            '4 classes, outputs panoptic, instance') in out
    ms, ips = _number(out, 'test ms/image'), _number(out, 'test images/s')
    assert ips == pytest.approx(1e3 / ms, rel=0.005 / ms + 0.01 / ips)
    # on the CPU only the process's peak RSS is measurable, and said so
    for stage in ('train', 'test'):
        assert _number(out,
                       f'{stage} peak RSS (CPU; whole process so far)') > 0
    assert 'GPU memory' not in out


def _main(argv):
    spec = importlib.util.spec_from_file_location('benchmark_maskcls', SCRIPT)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    module.main(argv)


def test_test_stage_with_random_vocabulary_and_refusals(
        tiny_config, tmp_path, capsys):
    with pytest.warns(UserWarning, match='nope.pt not found: random 7 x 16'):
        _main([
            tiny_config, '--stage', 'test', '--iters', '1', '--warmup', '0',
            '--test-size', '48', '80', '--test-batch-size', '2',
            '--num-classes', '7', '--device', 'cpu', '--cfg-options',
            f'model.panoptic_head.test_vocabulary={tmp_path / "nope.pt"}',
            'model.panoptic_head.test_num_things_classes=3',
            'model.clip_mode=clip_only', 'model.test_cfg.semantic_on=True'
        ])
    out = capsys.readouterr().out
    assert 'train' not in out
    assert ('test: clip_mode clip_only, batch 2, 48x80, 7 classes, '
            'outputs panoptic, instance, semantic') in out
    with pytest.raises(SystemExit, match='needs a CUDA device'):
        _main([tiny_config, '--amp-dtype', 'bf16', '--device', 'cpu'])
    with pytest.raises(SystemExit, match='must be positive'):
        _main([tiny_config, '--iters', '0', '--device', 'cpu'])
    with pytest.raises(SystemExit, match='config not found'):
        _main([str(tmp_path / 'nope.py'), '--device', 'cpu'])
