# Copyright (c) mmclipself contributors. All rights reserved.
"""A misspelt top-level config key fails before anything is built.

MMEngine's Runner ignores top-level keys it does not read, so ``trian_cfg``
would train with the loop defaults and ``laod_from`` from scratch. The
check runs in ``StrictRunner.from_cfg``; ``tools/train.py`` prints one line.
"""
import glob
import os.path as osp

import pytest
from mmengine.config import Config

from mmclipself.engine import ConfigKeyError, check_config_keys
from mmclipself.engine.config_checks import misspelt_keys, runner_keys
from mmclipself.testing.runs import (REPO, train_in_subprocess,
                                     write_tiny_distill_config)


def test_runner_keys_are_the_runner_arguments():
    keys = runner_keys()
    for key in ('train_cfg', 'load_from', 'resume', 'default_hooks',
                'optim_wrapper', 'val_evaluator', 'runner_type'):
        assert key in keys
    assert 'self' not in keys and 'cfg' not in keys


@pytest.mark.parametrize('key,meant', [('trian_cfg', 'train_cfg'),
                                       ('laod_from', 'load_from'),
                                       ('val_evaluater', 'val_evaluator'),
                                       ('defualt_hooks', 'default_hooks'),
                                       ('custom_hook', 'custom_hooks'),
                                       ('optim_wraper', 'optim_wrapper')])
def test_misspellings_are_found(key, meant):
    assert misspelt_keys([key, 'model']) == [(key, meant)]


def test_helper_variables_and_present_keys_are_left_alone():
    helpers = [
        'data_root', 'dataset_type', 'train_pipeline', 'test_pipeline',
        'backend_args', 'max_iters', 'vocabulary', 'tta_model', 'img_scale',
        '_images'
    ]
    assert misspelt_keys(helpers) == []
    # a base config sets the real key: the misspelt override is still lost
    assert misspelt_keys(['val_cfg', 'val_cgf']) == [('val_cgf', 'val_cfg')]


def test_every_shipped_config_passes():
    configs = [
        f for f in glob.glob(
            osp.join(REPO, 'configs', '**', '*.py'), recursive=True)
        if '_base_' not in f
    ]
    assert len(configs) > 10
    for path in configs:
        check_config_keys(Config.fromfile(path))


def test_mmdet_and_mmseg_configs_pass():
    # a sample of the hosts' own configs: their helper variables
    # (train_pipeline, conv_cfg, val_evaluator_full ...) are not flagged
    import mmdet
    import mmseg
    checked = 0
    for pkg in (mmdet, mmseg):
        root = osp.join(osp.dirname(pkg.__file__), '.mim', 'configs')
        paths = sorted(glob.glob(osp.join(root, '**', '*.py'), recursive=True))
        for path in [p for p in paths if '_base_' not in p][::60]:
            check_config_keys(Config.fromfile(path))
            checked += 1
    assert checked >= 20


def test_error_names_file_key_and_meaning(tmp_path):
    path = tmp_path / 'cfg.py'
    path.write_text('model = dict()\nlaod_from = "a.pth"\n')
    with pytest.raises(ConfigKeyError) as e:
        check_config_keys(Config.fromfile(str(path)))
    assert str(e.value).startswith(
        f"{path}: unknown top-level key 'laod_from' (did you mean "
        "'load_from'?)")


@pytest.mark.slow  # tools/train.py in a subprocess
def test_train_py_stops_on_a_misspelt_key(tmp_path):
    config = write_tiny_distill_config(tmp_path,
                                       'trian_cfg = dict(max_iters=1)\n')
    res = train_in_subprocess(
        config, tmp_path / 'work', pythonpath=[str(tmp_path)])
    out = res.stdout + res.stderr
    assert res.returncode != 0
    assert (f"error: {config}: unknown top-level key 'trian_cfg' (did you "
            "mean 'train_cfg'?)") in out, out[-3000:]
    assert 'Traceback' not in out
    assert 'Iter(train)' not in out
