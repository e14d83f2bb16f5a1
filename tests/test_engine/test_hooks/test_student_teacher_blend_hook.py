# Copyright (c) mmclipself contributors. All rights reserved.
"""A short real run of the demo config: blended towers land beside ckpts."""
import os.path as osp

import pytest
import torch
from mmengine.config import Config
from mmengine.runner import Runner

from mmclipself.engine.hooks import StudentTeacherBlendHook
from mmclipself.models.utils import blend_state_dicts

REPO = osp.dirname(
    osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__)))))


def test_blend_files_written_with_the_right_mix(tmp_path):
    import skimage.data
    lst = tmp_path / 'imgs.txt'
    lst.write_text('astronaut.png\ncoffee.png\n')
    cfg = Config.fromfile(
        osp.join(REPO, 'configs', 'clipself', 'clipself_tiny-eva02_demo.py'))
    cfg.work_dir = str(tmp_path / 'work')
    for key in ('train_dataloader', 'val_dataloader', 'test_dataloader'):
        cfg[key].dataset.ann_file = str(lst)
        cfg[key].dataset.data_prefix = dict(img_path=skimage.data.data_dir)
    cfg.train_cfg = dict(
        type='IterBasedTrainLoop',
        max_iters=2,
        val_interval=100,
        val_begin=100)
    cfg.default_hooks.checkpoint = dict(
        type='CheckpointHook', interval=1, by_epoch=False)
    cfg.model.data_preprocessor.student_size = 128
    runner = Runner.from_cfg(cfg)
    runner.train()

    for it in (1, 2):
        blend_path = osp.join(cfg.work_dir, f'iter_{it}_student_blend0.7.pth')
        assert osp.isfile(blend_path)
    ckpt = torch.load(
        osp.join(cfg.work_dir, 'iter_2.pth'), weights_only=True)['state_dict']
    student = {k[8:]: v for k, v in ckpt.items() if k.startswith('student.')}
    teacher = {k[8:]: v for k, v in ckpt.items() if k.startswith('teacher.')}
    assert any(not torch.equal(student[k], teacher[k]) for k in student)
    expected = blend_state_dicts(student, teacher, 0.7)
    blend = torch.load(blend_path, weights_only=True)
    assert blend['meta'] == dict(
        alpha=0.7, source='iter_2.pth', format='open_clip')
    for k, v in expected.items():
        assert torch.allclose(blend['state_dict']['visual.' + k], v), k


def test_alpha_is_validated():
    with pytest.raises(ValueError, match='alpha'):
        StudentTeacherBlendHook(alpha=1.5)
