# Copyright (c) mmclipself contributors. All rights reserved.
"""CLIP mask classification end to end through the user's entry points.

The shipped R50 + OpenAI ViT-L/14-336 COCO panoptic training config, shrunk
(:func:`~mmclipself.testing.maskcls.tiny_maskcls_config`), trains two
iterations with ``tools/train.py`` on a tiny COCO-panoptic-format set (real
photos, hand-made segments, PNG + json), validates (PQ), and resumes to a
third iteration. The checkpoint is then tested, untouched, with the shipped
ADE20K panoptic / semantic / instance test configs and the ADE vocabularies
on a tiny ADE20K set in MMDetection's formats: by ``tools/test.py`` and by
MMDetection's own test script, which must print the same numbers. The CLIP
tower, a frozen part, is only recorded in the checkpoint: the record's
fingerprint is that of the weights file. The CLIP-ViT-pyramid config trains
in-process (its tower is part of the mask generator), with the tower
bit-identical afterwards and one tower pass per test image.
"""
import hashlib
import os.path as osp
import re
import subprocess
import sys
from unittest import mock

import mmdet
import numpy as np
import pytest
import torch
from mmengine.runner import Runner
from PIL import Image

from mmclipself.models import OpenAICLIPViT
from mmclipself.models.utils.frozen import decode_record, weights_fingerprint
from mmclipself.testing.fvit import write_tower, write_vocabulary
from mmclipself.testing.maskcls import (TINY_OPENAI, tiny_maskcls_config,
                                        write_openai_tower)
from mmclipself.testing.panoptic import (write_tiny_ade20k,
                                         write_tiny_coco_panoptic)
from mmclipself.testing.runs import REPO, train_in_subprocess
from mmclipself.vocab import get_class_names

pytestmark = pytest.mark.slow  # the tools run in subprocesses

CONFIGS = 'configs/maskcls/'
TRAIN_CONFIG = CONFIGS + ('maskcls_r50-openai-vitl14-336_8xb2-lsj-368k_'
                          'coco-panoptic.py')
PYRAMID_CONFIG = CONFIGS + ('maskcls_pyramid-eva-vitb16_8xb2-lsj-368k_'
                            'coco-panoptic.py')
TEST_SETS = {
    'panoptic': 'ade20k_panoptic',
    'semantic': 'ade20k',
    'instance': 'ade20k_instance'
}
MMDET_TEST = osp.join(osp.dirname(mmdet.__file__), '.mim', 'tools', 'test.py')
PQ_KEYS = [
    f'coco_panoptic/{m}{s}' for s in ('', '_th', '_st')
    for m in ('PQ', 'SQ', 'RQ')
]


def _vocabularies(tmp):
    """16-d vocabulary files of the real class lists of every set."""
    return {
        key:
        write_vocabulary(
            tmp / f'{key}.pt', get_class_names(key), background=False, seed=i)
        for i, key in enumerate(['coco_panoptic', *TEST_SETS.values()])
    }


def _tiny_schedule(cfg, work_dir=None):
    cfg.train_cfg.update(max_iters=2, val_interval=2, dynamic_intervals=None)
    cfg.param_scheduler.update(end=2, milestones=[1])
    cfg.default_hooks.checkpoint.interval = 1
    cfg.default_hooks.logger.interval = 1
    if work_dir is not None:
        cfg.work_dir = str(work_dir)
    return cfg


def _sha256(path):
    return hashlib.sha256(open(path, 'rb').read()).hexdigest()


@pytest.fixture(scope='module')
def run(tmp_path_factory):
    tmp = tmp_path_factory.mktemp('maskcls_e2e')
    coco = write_tiny_coco_panoptic(tmp / 'coco')
    ade = write_tiny_ade20k(tmp / 'ade')
    vocab = _vocabularies(tmp)
    tower = write_openai_tower(tmp / 'openai_tower.pth')
    cfg = _tiny_schedule(
        tiny_maskcls_config(TRAIN_CONFIG, vocab['coco_panoptic'], tower,
                            coco['data_root']))
    train_config = str(tmp / 'train.py')
    cfg.dump(train_config)
    tests = {}
    for name, key in TEST_SETS.items():
        cfg = tiny_maskcls_config(
            CONFIGS + f'maskcls_r50-openai-vitl14-336_ade20k-{name}.py',
            vocab['coco_panoptic'],
            tower,
            ade['data_root'],
            test_vocabulary=vocab[key])
        tests[name] = str(tmp / f'test_{name}.py')
        cfg.dump(tests[name])
    work = tmp / 'work'
    res = train_in_subprocess(train_config, work, cwd=str(tmp))
    return dict(
        tmp=tmp,
        coco=coco,
        ade=ade,
        vocab=vocab,
        tower=tower,
        train_config=train_config,
        tests=tests,
        work=work,
        train=res)


def _metrics(text,
             pattern=r'(coco_panoptic/\w+|coco/\w+|aAcc|mIoU|mAcc): '
             r'(-?[\d.]+)'):
    """The metrics of the last ``(test)``/``(val)`` summary line."""
    lines = [
        ln for ln in text.splitlines()
        if re.search(r'(Epoch|Iter)\((test|val)\) +\[\d+/\d+\] +[a-z]', ln)
    ]
    assert lines, text[-3000:]
    return {k: float(v) for k, v in re.findall(pattern, lines[-1])}


def _test(script, config, ckpt, work_dir, cwd, *extra):
    command = [sys.executable]
    if script != 'ours':
        command += ['-m', 'mmclipself.run', script]
    else:
        command += [osp.join(REPO, 'tools', 'test.py')]
    res = subprocess.run(
        command + [config, ckpt, '--work-dir',
                   str(work_dir), *extra],
        cwd=str(cwd),
        capture_output=True,
        text=True,
        timeout=600)
    out = res.stdout + res.stderr
    assert res.returncode == 0, out[-4000:]
    return out


def test_r50_trains_validates_and_records_the_clip_tower(run):
    res = run['train']
    out = res.stdout + res.stderr
    assert res.returncode == 0, out[-4000:]
    assert 'Iter(train) [2/2]' in out
    for key in ('loss_cls', 'loss_mask', 'loss_dice', 'd0.loss_cls'):
        assert f' {key}: ' in out
    assert 'classes match the vocabulary (133 classes' in out
    assert sorted(_metrics(out)) == sorted(PQ_KEYS)  # validation on COCO
    for i in (1, 2):
        assert (run['work'] / f'iter_{i}.pth').is_file()
    # the frozen CLIP tower is not stored, only its record: the
    # fingerprint of the weights file the config names, bit for bit
    ckpt = torch.load(run['work'] / 'iter_2.pth', weights_only=True)
    state = ckpt['state_dict']
    assert [k for k in state
            if k.startswith('clip_tower.')] == ['clip_tower.__frozen__']
    record = decode_record(state['clip_tower.__frozen__'])
    assert record['source'] == run['tower']
    reference = OpenAICLIPViT(
        arch=TINY_OPENAI,
        pretrained=run['tower'],
        out_type='dense',
        train_blocks=[])
    reference.init_weights()
    saved = torch.load(run['tower'], weights_only=True)
    loaded = reference.tower().state_dict()
    assert all(torch.equal(loaded[k], v) for k, v in saved.items())
    assert record['fingerprint'] == weights_fingerprint(reference)
    assert not any('text_embeddings' in k for k in state)


def test_resume_continues_the_run(run):
    res = train_in_subprocess(
        run['train_config'],
        run['work'],
        '--resume',
        '--cfg-options',
        'train_cfg.max_iters=3',
        cwd=str(run['tmp']))
    out = res.stdout + res.stderr
    assert res.returncode == 0, out[-4000:]
    assert 'resumed epoch: 0, iter: 2' in out
    assert 'Iter(train) [3/3]' in out
    assert 'Iter(train) [1/3]' not in out
    assert (run['work'] / 'iter_3.pth').is_file()


def _drawn(work_dir):
    """The images MMDetection's visualiser drew under ``--show-dir vis``."""
    return {
        p.name: np.asarray(Image.open(p))
        for p in sorted(work_dir.glob('*/vis/*.jpg'))
    }


def test_ade_panoptic_by_our_and_mmdetections_test_scripts(run):
    ckpt = str(run['work'] / 'iter_2.pth')
    before = _sha256(ckpt)
    config = run['tests']['panoptic']
    work = {name: run['tmp'] / f'pan_{name}' for name in ('ours', 'mmdet')}
    ours = _test('ours', config, ckpt, work['ours'], run['tmp'], '--show-dir',
                 'vis')
    # another vocabulary, as a config value only: 150 ADE panoptic classes
    assert 'classes match the vocabulary (150 classes' in ours
    numbers = _metrics(ours)
    assert sorted(numbers) == sorted(PQ_KEYS)
    assert all(0.0 <= v <= 100.0 for v in numbers.values())
    theirs = _test(MMDET_TEST, config, ckpt, work['mmdet'], run['tmp'],
                   '--show-dir', 'vis')
    assert _metrics(theirs) == numbers
    assert _sha256(ckpt) == before  # the checkpoint is untouched
    # both drew the same panoptic predictions with MMDetection's
    # visualiser
    drawn = {name: _drawn(w) for name, w in work.items()}
    assert sorted(
        drawn['ours']) == ['ADE_val_00000001.jpg', 'ADE_val_00000002.jpg']
    for name, image in drawn['ours'].items():
        # ground truth | prediction; the visualiser colours ground-truth
        # things at random, and JPEG blocks (16 px) straddle the seam
        pred = slice(image.shape[1] // 2 + 16, None)
        assert np.array_equal(image[:, pred], drawn['mmdet'][name][:, pred])


def test_ade_semantic(run):
    ckpt = str(run['work'] / 'iter_2.pth')
    out = _test('ours', run['tests']['semantic'], ckpt,
                run['tmp'] / 'semantic', run['tmp'])
    # ADE-150 in its own (semantic) order, not the panoptic one
    assert 'classes match the vocabulary (150 classes' in out
    assert sorted(_metrics(out)) == ['aAcc', 'mAcc', 'mIoU']


def test_ade_instance(run):
    ckpt = str(run['work'] / 'iter_2.pth')
    out = _test('ours', run['tests']['instance'], ckpt,
                run['tmp'] / 'instance', run['tmp'])
    assert 'classes match the vocabulary (100 classes' in out
    keys = [f'coco/segm_mAP{s}' for s in ('', '_50', '_75', '_s', '_m', '_l')]
    assert sorted(_metrics(out)) == sorted(keys)


def test_clip_vit_pyramid_trains_with_the_tower_frozen(run, tmp_path):
    tower_file = write_tower(tmp_path / 'eva_tower.pth')
    cfg = _tiny_schedule(
        tiny_maskcls_config(PYRAMID_CONFIG, run['vocab']['coco_panoptic'],
                            tower_file, run['coco']['data_root']),
        tmp_path / 'work')
    cfg.train_cfg.val_interval = 100  # validated below, with a spy
    runner = Runner.from_cfg(cfg)
    runner.train()
    assert runner.iter == 2
    model = runner.model
    saved = torch.load(tower_file, weights_only=True)
    trained = model.backbone.clip.tower().state_dict()
    assert all(torch.equal(trained[k], v) for k, v in saved.items())
    state = torch.load(
        tmp_path / 'work' / 'iter_2.pth', weights_only=True)['state_dict']
    assert [k for k in state
            if k.startswith('backbone.clip.')] == ['backbone.clip.__frozen__']
    record = decode_record(state['backbone.clip.__frozen__'])
    assert record['fingerprint'] == weights_fingerprint(model.backbone.clip)
    # the trainable pyramid layers did train
    assert any(k.startswith('backbone.up') for k in state)
    # one tower pass per test image gives the pyramid and the dense map
    clip = model.backbone.clip
    with mock.patch.object(
            clip, 'forward_tokens', wraps=clip.forward_tokens) as spy:
        metrics = runner.val_loop.run()
    assert spy.call_count == len(runner.val_dataloader.dataset) == 2
    assert set(PQ_KEYS) <= set(metrics)
