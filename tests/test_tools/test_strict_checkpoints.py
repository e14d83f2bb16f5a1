# Copyright (c) mmclipself contributors. All rights reserved.
"""Checkpoints that are not the model's fail, naming the file and the keys.

MMEngine's Runner loads ``load_from`` / ``--resume`` non-strictly: a renamed
key or a wrong-shaped tensor only logs a warning and the run evaluates (or
trains) a randomly initialised layer, exit 0. Through the user's command
lines: ``tools/test.py CONFIG CKPT``, ``tools/train.py`` with ``load_from``
and with ``--resume``, on a checkpoint of the tiny CLIPSelf demo distiller.
Frozen teachers left out of checkpoints (their records) are covered by
tests/test_tools/test_distill_resume.py, which resumes through the same
strict runner.

MMDetection's own test script, run through ``python -m mmclipself.run``,
builds the same strict runner (``runner_type`` of the default runtime): a
tiny F-ViT checkpoint with a renamed key and a wrong-shaped tensor fails
there too, and the correct one is evaluated.
"""
import json
import os.path as osp
import subprocess
import sys

import mmdet
import pytest
import torch
from mmengine.registry import MODELS, init_default_scope

from mmclipself.apis import init_ov_detector
from mmclipself.datasets import build_ov_coco
from mmclipself.engine import CheckpointMismatchError
from mmclipself.models.utils.frozen import init_frozen_parts
from mmclipself.testing.detection import write_tiny_coco
from mmclipself.testing.fvit import (tiny_fvit_config, write_tower,
                                     write_vocabulary)
from mmclipself.testing.runs import REPO, train_in_subprocess
from mmclipself.vocab import get_class_names

MMDET_TEST = osp.join(osp.dirname(mmdet.__file__), '.mim', 'tools', 'test.py')

# trains and tests in subprocesses through tools/
pytestmark = pytest.mark.slow

CONFIG = '''
_base_ = ['{repo}/configs/clipself/clipself_tiny-eva02_demo.py']
_images = dict(ann_file='{images}', data_prefix=dict(img_path='{root}'))
train_dataloader = dict(dataset=_images)
val_dataloader = dict(dataset=_images)
test_dataloader = val_dataloader
# the teacher is random: stored, so that tools/test.py can re-make it
model = dict(data_preprocessor=dict(student_size=128), save_teacher=True)
train_cfg = dict(max_iters={iters}, val_interval=100, val_begin=100)
param_scheduler = []
default_hooks = dict(
    checkpoint=dict(type='CheckpointHook', interval=1, by_epoch=False),
    logger=dict(interval=1))
custom_hooks = []
'''
RENAMED = 'student.trunk.blocks.0.attn.v_proj.weight'
RESHAPED = 'student.trunk.blocks.1.attn.v_proj.bias'


def _config(tmp_path, iters):
    import skimage.data
    (tmp_path / 'images.txt').write_text('astronaut.png\ncoffee.png\n')
    path = tmp_path / f'cfg{iters}.py'
    path.write_text(
        CONFIG.format(
            repo=REPO,
            images=tmp_path / 'images.txt',
            root=skimage.data.data_dir,
            iters=iters))
    return path


@pytest.fixture(scope='module')
def trained(tmp_path_factory):
    """A one-iteration run: its config and its (correct) checkpoint."""
    tmp_path = tmp_path_factory.mktemp('strict')
    config = _config(tmp_path, 1)
    res = train_in_subprocess(config, tmp_path / 'run')
    assert res.returncode == 0, res.stderr[-3000:]
    return tmp_path, config, tmp_path / 'run' / 'iter_1.pth'


def _tampered(good, path, rename=False, reshape=False):
    ckpt = torch.load(good, weights_only=True)
    state = ckpt['state_dict']
    if rename:
        state[RENAMED + 's'] = state.pop(RENAMED)
    if reshape:
        state[RESHAPED] = torch.zeros(3)
    torch.save(ckpt, path)
    return path


def _test_py(config, checkpoint, work_dir):
    return subprocess.run([
        sys.executable, f'{REPO}/tools/test.py',
        str(config),
        str(checkpoint), '--work-dir',
        str(work_dir)
    ],
                          cwd=REPO,
                          capture_output=True,
                          text=True,
                          timeout=600)


def _assert_fails_naming(res, path, renamed=False, reshaped=False):
    out = res.stdout + res.stderr
    assert res.returncode != 0, out[-3000:]
    line = res.stderr.strip().splitlines()[-1]
    assert line.startswith(f'error: {path} does not match the model '
                           'CLIPSelfDistiller'), out[-3000:]
    if renamed:
        assert f'1 missing keys [{RENAMED}]' in line
        assert f'1 unexpected keys [{RENAMED}s]' in line
    if reshaped:
        assert (f'1 tensors of the wrong shape [{RESHAPED} '
                '(checkpoint [3], model [128])]') in line
    assert 'Traceback' not in res.stderr


def test_tools_test_py_loads_strictly(trained):
    tmp_path, config, good = trained
    res = _test_py(config, good, tmp_path / 'ok')
    assert res.returncode == 0, res.stderr[-3000:]
    assert 'does not match' not in res.stdout + res.stderr
    renamed = _tampered(good, tmp_path / 'renamed.pth', rename=True)
    res = _test_py(config, renamed, tmp_path / 'a')
    _assert_fails_naming(res, renamed, renamed=True)
    reshaped = _tampered(good, tmp_path / 'reshaped.pth', reshape=True)
    res = _test_py(config, reshaped, tmp_path / 'b')
    _assert_fails_naming(res, reshaped, reshaped=True)


def test_load_from_and_resume_load_strictly(trained):
    tmp_path, _, good = trained
    config = _config(tmp_path, 2)
    bad = _tampered(good, tmp_path / 'bad.pth', rename=True, reshape=True)
    res = train_in_subprocess(config, tmp_path / 'load_from', '--cfg-options',
                              f'load_from={bad}')
    _assert_fails_naming(res, bad, renamed=True, reshaped=True)
    assert not (tmp_path / 'load_from' / 'iter_1.pth').exists()
    res = train_in_subprocess(config, tmp_path / 'resume', '--resume',
                              str(bad))
    _assert_fails_naming(res, bad, renamed=True, reshaped=True)
    assert not (tmp_path / 'resume' / 'iter_2.pth').exists()
    # the correct checkpoint resumes and trains on
    res = train_in_subprocess(config, tmp_path / 'resume', '--resume',
                              str(good))
    assert res.returncode == 0, res.stderr[-3000:]
    assert (tmp_path / 'resume' / 'iter_2.pth').exists()


def _tiny_fvit(tmp_path):
    """A tiny OV-COCO F-ViT config file and a checkpoint of its model."""
    data = write_tiny_coco(tmp_path / 'coco', 'val')
    with open(data['ann_file']) as f:
        val = build_ov_coco(json.load(f), 'val')
    ann = str(tmp_path / 'val65.json')
    with open(ann, 'w') as f:
        json.dump(val, f)
    cfg = tiny_fvit_config(
        'configs/fvit/fvit_eva-vitb16_ov-coco.py',
        write_tower(tmp_path / 'tower.pth'),
        write_vocabulary(tmp_path / 'coco65.pt', get_class_names('coco65')))
    cfg.test_dataloader.dataset.update(
        data_root=data['data_root'],
        ann_file=ann,
        data_prefix=data['data_prefix'])
    cfg.test_dataloader.batch_size = 1
    cfg.test_evaluator.ann_file = ann
    config = str(tmp_path / 'tiny_fvit.py')
    cfg.dump(config)
    init_default_scope(cfg.default_scope)
    model = MODELS.build(cfg.model)
    init_frozen_parts(model)  # reads the tower file, as the tools do
    state = model.state_dict()
    # the frozen tower is left out: its record only
    assert [k for k in state
            if k.startswith('backbone.clip.')] == ['backbone.clip.__frozen__']
    good = tmp_path / 'fvit.pth'
    torch.save(dict(state_dict=state, meta=dict()), good)
    return config, good


def test_mmdet_test_script_through_mmclipself_run_loads_strictly(tmp_path):
    config, good = _tiny_fvit(tmp_path)
    ckpt = torch.load(good, weights_only=True)
    state = ckpt['state_dict']
    renamed = 'rpn_head.rpn_cls.weight'
    state['rpn_head.rpn_cls.weights'] = state.pop(renamed)
    state['rpn_head.rpn_reg.bias'] = torch.zeros(5)
    bad = tmp_path / 'bad.pth'
    torch.save(ckpt, bad)

    def run(checkpoint, name):
        return subprocess.run([
            sys.executable, '-m', 'mmclipself.run', MMDET_TEST, config,
            str(checkpoint), '--work-dir',
            str(tmp_path / name)
        ],
                              cwd=str(tmp_path),
                              capture_output=True,
                              text=True,
                              timeout=600)

    res = run(bad, 'bad')
    assert res.returncode != 0
    assert f'{bad} does not match the model ' in res.stderr, \
        res.stderr[-3000:]
    assert f'1 missing keys [{renamed}]' in res.stderr
    assert '1 unexpected keys [rpn_head.rpn_cls.weights]' in res.stderr
    assert ('1 tensors of the wrong shape [rpn_head.rpn_reg.bias '
            '(checkpoint [5], model [12])]') in res.stderr
    res = run(good, 'good')
    assert res.returncode == 0, res.stderr[-3000:]
    assert 'Epoch(test)' in res.stdout + res.stderr


def test_export_student_checks_the_student_strictly(trained):
    tmp_path, _, good = trained
    tool = osp.join(REPO, 'tools', 'model_converters', 'export_student.py')

    def export(checkpoint, out):
        return subprocess.run(
            [sys.executable, tool,
             str(checkpoint), str(out)],
            cwd=REPO,
            capture_output=True,
            text=True,
            timeout=600)

    bad = _tampered(
        good, tmp_path / 'bad_student.pth', rename=True, reshape=True)
    res = export(bad, tmp_path / 'bad_out.pth')
    assert res.returncode != 0
    line = res.stderr.strip().splitlines()[-1]
    assert line.startswith(f'error: {bad} does not match the model '
                           'EVA02CLIPViT'), res.stderr[-3000:]
    assert '1 missing keys [trunk.blocks.0.attn.v_proj.weight]' in line
    assert ('1 tensors of the wrong shape [trunk.blocks.1.attn.v_proj.bias '
            '(checkpoint [3], model [128])]') in line
    assert not (tmp_path / 'bad_out.pth').exists()
    res = export(good, tmp_path / 'good_out.pth')
    assert res.returncode == 0, res.stderr[-3000:]
    assert 'not checked' not in res.stdout
    assert (tmp_path / 'good_out.pth').exists()


def test_init_ov_detector_loads_strictly(tmp_path):
    config, good = _tiny_fvit(tmp_path)
    ckpt = torch.load(good, weights_only=True)
    ckpt['state_dict']['rpn_head.rpn_reg.bias'] = torch.zeros(5)
    ckpt['state_dict']['extra.weight'] = torch.zeros(1)
    bad = tmp_path / 'bad.pth'
    torch.save(ckpt, bad)
    with pytest.raises(CheckpointMismatchError) as info:
        init_ov_detector(config, str(bad))
    message = str(info.value)
    assert message.startswith(f'{bad} does not match the model ')
    assert '1 unexpected keys [extra.weight]' in message
    assert ('1 tensors of the wrong shape [rpn_head.rpn_reg.bias '
            '(checkpoint [5], model [12])]') in message
    model = init_ov_detector(config, str(good))
    assert torch.equal(model.rpn_head.rpn_reg.bias,
                       torch.load(good)['state_dict']['rpn_head.rpn_reg.bias'])


@pytest.mark.parametrize('fault', ['width', 'renamed'])
def test_tools_test_py_refuses_a_wrong_tower_file(tmp_path, fault):
    """The frozen tower F-ViT reads at start is loaded strictly too.

    ``tools/test.py`` with a good F-ViT checkpoint, but the tower file the
    config names replaced by one of another width or with renamed keys:
    the run fails naming that file, never evaluates a random tower.
    """
    from mmengine.config import Config

    from mmclipself.models import EVA02CLIPViT
    from mmclipself.testing.fvit import TINY_FVIT_EVA
    config, good = _tiny_fvit(tmp_path)
    tower_file = Config.fromfile(config).model.backbone.clip.pretrained
    torch.manual_seed(0)
    if fault == 'width':
        arch = dict(TINY_FVIT_EVA, embed_dim=TINY_FVIT_EVA['embed_dim'] * 2)
        state = EVA02CLIPViT(arch=arch).tower().state_dict()
    else:
        state = EVA02CLIPViT(arch=TINY_FVIT_EVA).tower().state_dict()
        state = {
            k.replace('blocks.0.', 'block.0.'): v
            for k, v in state.items()
        }
    torch.save(state, tower_file)
    res = subprocess.run([
        sys.executable,
        osp.join(REPO, 'tools', 'test.py'), config,
        str(good), '--work-dir',
        str(tmp_path / 'work')
    ],
                         cwd=str(tmp_path),
                         capture_output=True,
                         text=True,
                         timeout=600)
    out = res.stdout + res.stderr
    assert res.returncode != 0, out[-3000:]
    # one line naming the file and what differs, no traceback
    assert f'error: {tower_file} does not match Eva: ' in out, out[-3000:]
    assert 'Traceback' not in out
    assert 'Epoch(test)' not in out
    if fault == 'width':
        assert 'tensors of the wrong shape [blocks.0.attn.k_proj.weight ' \
            '(checkpoint [128, 128], model [64, 64])' in out
    else:
        assert 'missing keys [blocks.0.' in out
        assert 'unexpected keys [block.0.' in out
