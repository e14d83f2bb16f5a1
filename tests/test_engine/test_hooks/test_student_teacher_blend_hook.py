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


def _cfg(tmp_path, iters, keep):
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
        max_iters=iters,
        val_interval=100,
        val_begin=100)
    cfg.default_hooks.checkpoint = dict(
        type='CheckpointHook', interval=1, by_epoch=False, max_keep_ckpts=keep)
    cfg.model.data_preprocessor.student_size = 128
    return cfg


def _files(work):
    return sorted(
        p.name for p in work.iterdir()
        if p.suffix != '.py' and p.name.startswith(('iter_', 'other', '.')))


@pytest.mark.slow  # trains and resumes through the Runner
def test_blend_files_written_with_the_right_mix_and_rotated(tmp_path):
    work = tmp_path / 'work'
    work.mkdir()
    # files the hook did not write: never deleted
    (work / 'iter_1_student_blend0.5.pth').write_bytes(b'other alpha')
    (work / 'other_student_blend0.7.pth').write_bytes(b'user file')
    cfg = _cfg(tmp_path, iters=3, keep=2)
    runner = Runner.from_cfg(cfg)
    runner.train()

    # CheckpointHook keeps iter_2 and iter_3; so do the blends
    assert _files(work) == [
        'iter_1_student_blend0.5.pth', 'iter_2.pth',
        'iter_2_student_blend0.7.pth', 'iter_3.pth',
        'iter_3_student_blend0.7.pth', 'other_student_blend0.7.pth'
    ]
    ckpt = torch.load(work / 'iter_3.pth', weights_only=True)['state_dict']
    # the teacher is not stored; the hook blends with the live one
    assert [k for k in ckpt
            if k.startswith('teacher.')] == ['teacher.__frozen__']
    student = {k[8:]: v for k, v in ckpt.items() if k.startswith('student.')}
    teacher = runner.model.teacher.state_dict()
    assert any(not torch.equal(student[k], teacher[k]) for k in student)
    expected = blend_state_dicts(student, teacher, 0.7)
    blend = torch.load(work / 'iter_3_student_blend0.7.pth', weights_only=True)
    assert blend['meta'] == dict(
        alpha=0.7, source='iter_3.pth', format='open_clip')
    for k, v in expected.items():
        assert torch.allclose(blend['state_dict']['visual.' + k], v), k

    # a resumed run rotates the blends the first run wrote
    cfg = _cfg(tmp_path, iters=4, keep=2)
    cfg.resume = True
    cfg.experiment_name = 'resumed'
    Runner.from_cfg(cfg).train()
    assert _files(work) == [
        'iter_1_student_blend0.5.pth', 'iter_3.pth',
        'iter_3_student_blend0.7.pth', 'iter_4.pth',
        'iter_4_student_blend0.7.pth', 'other_student_blend0.7.pth'
    ]


def test_alpha_is_validated():
    with pytest.raises(ValueError, match='alpha'):
        StudentTeacherBlendHook(alpha=1.5)
