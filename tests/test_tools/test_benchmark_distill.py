# Copyright (c) mmclipself contributors. All rights reserved.
"""The benchmark script runs on any config and prints its numbers."""
import os.path as osp
import subprocess
import sys

import pytest

REPO = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))
# runs the tool in subprocesses
pytestmark = pytest.mark.slow


def test_benchmark_prints_throughput_flops_and_crop_share():
    res = subprocess.run([
        sys.executable,
        osp.join(REPO, 'tools', 'analysis', 'benchmark_distill.py'),
        osp.join(REPO, 'configs', 'clipself', 'clipself_tiny-eva02_demo.py'),
        '--amp-dtype', 'fp32', '--iters', '1', '--warmup', '1', '--regions',
        '4', '--image-size', '48', '64'
    ],
                         capture_output=True,
                         text=True,
                         timeout=300)
    assert res.returncode == 0, res.stderr[-2000:]
    out = res.stdout
    assert 'batch 2, 4 regions/image, student 256, crops 64' in out
    assert 'images/s: ' in out
    # the teacher-crop stage, timed alone, is a part of the step
    crop = out.split('teacher crops (release): ')[1]
    crop_ms = float(crop.split(' ms')[0])
    share = float(crop.split(', ')[1].split('% of a step')[0])
    step_ms = float(out.split('step time: ')[1].split(' ms')[0])
    assert 0 < crop_ms < step_ms
    # both times are printed to 0.1 ms and the share to 0.01 %: allow
    # exactly that rounding
    rounding = 100 * (0.05 / step_ms + 0.05 * crop_ms / step_ms**2) + 0.005
    assert share == pytest.approx(100 * crop_ms / step_ms, abs=rounding)
    flops = float(out.split('FLOPs/step: ')[1].split(' TFLOP')[0])
    assert flops > 0


def test_benchmark_refuses_amp_on_cpu():
    res = subprocess.run([
        sys.executable,
        osp.join(REPO, 'tools', 'analysis', 'benchmark_distill.py'),
        osp.join(REPO, 'configs', 'clipself', 'clipself_tiny-eva02_demo.py'),
        '--amp-dtype', 'bf16', '--device', 'cpu'
    ],
                         capture_output=True,
                         text=True,
                         timeout=300)
    assert res.returncode != 0
    assert 'needs a CUDA device' in res.stderr
