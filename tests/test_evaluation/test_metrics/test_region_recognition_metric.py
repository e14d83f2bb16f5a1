# Copyright (c) mmclipself contributors. All rights reserved.
import math
import os.path as osp
import subprocess
import sys
import textwrap

import numpy as np
import pytest
import torch
from mmengine.structures import BaseDataElement

from mmclipself.evaluation import RegionRecognitionMetric
from mmclipself.models import CLIPSelfDistiller
from mmclipself.testing.panoptic import CATEGORIES, write_tiny_panoptic

REPO = osp.dirname(
    osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__)))))
NAMES = [c['name'] for c in CATEGORIES]


def _embeddings(path, dim=16, names=NAMES):
    torch.save(
        dict(class_names=list(names), embeddings=torch.eye(len(names), dim)),
        path)
    return str(path)


def _write_panoptic_test_cfg(path, data, emb, extra=''):
    """A config testing the demo model on the tiny panoptic set."""
    path.write_text(
        textwrap.dedent(f"""
        _base_ = '{REPO}/configs/clipself/clipself_tiny-eva02_demo.py'
        test_dataloader = dict(
            num_workers=0,
            persistent_workers=False,
            dataset=dict(
                _delete_=True,
                type='CocoPanopticRegionDataset',
                data_root='{data['data_root']}',
                ann_file='{data['ann_file']}',
                data_prefix={data['data_prefix']},
                test_mode=True,
                pipeline=[
                    dict(type='LoadImageOrSkip'),
                    dict(type='LoadPanopticRegions'),
                    dict(type='PackRegionInputs'),
                ]))
        test_evaluator = dict(_delete_=True, type='RegionRecognitionMetric',
                              text_embeddings='{emb}')
    """) + textwrap.dedent(extra))
    return path


def _run_tools_test(cfg, work_dir, *ckpt):
    return subprocess.run([
        sys.executable,
        osp.join(REPO, 'tools', 'test.py'),
        str(cfg), *ckpt, '--work-dir',
        str(work_dir)
    ],
                          capture_output=True,
                          text=True,
                          timeout=600)


def test_calculate_mean_per_class_accuracy():
    labels = np.array([0, 0, 0, 1, 2])
    top5 = np.array([[0, 1], [1, 0], [2, 1], [1, 0], [0, 1]])
    res = RegionRecognitionMetric.calculate(labels, top5)
    # class 0: 1/3 top-1, 2/3 top-2; class 1: 1, 1; class 2: 0, 0
    assert res['top1'] == pytest.approx(100 * (1 / 3 + 1 + 0) / 3)
    assert res['top5'] == pytest.approx(100 * (2 / 3 + 1 + 0) / 3)
    empty = RegionRecognitionMetric.calculate(
        np.zeros(0, int), np.zeros((0, 5), int))
    assert math.isnan(empty['top1'])


def test_process_groups_and_checks(tmp_path):
    metric = RegionRecognitionMetric(_embeddings(tmp_path / 'e.pt'))
    metric.dataset_meta = dict(classes=tuple(NAMES))
    s = BaseDataElement()
    s.gt_labels = torch.tensor([0, 1, 2, 3])
    s.is_thing = torch.tensor([True, True, False, False])
    eye = torch.eye(4, 16)
    s.region_feats = eye[[0, 0, 2, 3]]  # box: cat right, cup wrong
    s.mask_feats = eye[[0, 1, 2, 2]]  # stuff: wall right, table wrong
    s.crop_feats = eye[[0, 1, 2, 3]]  # all right
    metric.process({}, [s])
    res = metric.evaluate(1)
    assert res['region_recog/box_top1'] == pytest.approx(50.)
    assert res['region_recog/thing_mask_top1'] == pytest.approx(100.)
    assert res['region_recog/stuff_mask_top1'] == pytest.approx(50.)
    assert res['region_recog/crop_stuff_top1'] == pytest.approx(100.)
    assert res['region_recog/box_top5'] == pytest.approx(100.)

    bad = RegionRecognitionMetric(_embeddings(tmp_path / 'w.pt', dim=8))
    with pytest.raises(ValueError, match='width 16 .* width 8'):
        bad.process({}, [s])
    other = RegionRecognitionMetric(
        _embeddings(tmp_path / 'n.pt', names=['a', 'b', 'c', 'd']))
    other.dataset_meta = dict(classes=tuple(NAMES))
    with pytest.raises(
            ValueError,
            match=r"first mismatch at index 0: expected 'cat' \(dataset\), "
            r"got 'a' \(vocabulary\)"):
        other.process({}, [s])
    with pytest.raises(FileNotFoundError, match='generate_text_embeddings'):
        RegionRecognitionMetric(str(tmp_path / 'missing.pt'))


def test_mask_pooling_averages_the_covered_cells():
    from mmengine.structures import BaseDataElement as E
    model = CLIPSelfDistiller(
        student=dict(
            type='EVA02CLIPViT',
            arch=dict(
                img_size=32,
                patch_size=8,
                embed_dim=32,
                depth=1,
                num_heads=1,
                qkv_fused=False,
                num_classes=16)))
    dense = torch.randn(1, 16, 4, 4)
    s = E(metainfo=dict(scale_factor=(0.5, 0.5)))  # 64x64 image -> 32x32
    masks = torch.zeros(2, 64, 64, dtype=torch.uint8)
    masks[0, :32, :32] = 1  # top-left 2x2 cells
    masks[1, 16:32, 48:64] = 1  # one cell (row 1, col 3)
    s.masks = masks
    feats = model.mask_features(dense, [s])[0]
    assert torch.allclose(
        feats[0], dense[0, :, :2, :2].mean((1, 2)), atol=1e-6)
    assert torch.allclose(feats[1], dense[0, :, 1, 3], atol=1e-6)


@pytest.mark.slow  # tools/test.py in a subprocess
def test_tools_test_reports_region_recognition(tmp_path):
    data = write_tiny_panoptic(tmp_path / 'pan')
    emb = _embeddings(tmp_path / 'emb.pt', dim=64)
    cfg = _write_panoptic_test_cfg(tmp_path / 'cfg.py', data, emb)
    from mmengine.config import Config
    from mmengine.registry import init_default_scope

    from mmclipself.registry import MODELS
    init_default_scope('mmclipself')
    # random towers: the teacher cannot be re-made in another process
    model = MODELS.build(
        dict(Config.fromfile(str(cfg)).model, save_teacher=True))
    model.init_weights()
    ckpt = tmp_path / 'model.pth'
    torch.save(dict(state_dict=model.state_dict(), meta=dict()), ckpt)
    res = _run_tools_test(cfg, tmp_path / 'work', str(ckpt))
    assert res.returncode == 0, res.stderr[-3000:]
    log = res.stdout + res.stderr
    for key in ('box_top1', 'thing_mask_top5', 'stuff_mask_top1',
                'crop_thing_top1', 'crop_stuff_top5'):
        assert f'region_recog/{key}' in log, key


@pytest.mark.slow
def test_tools_test_without_checkpoint_uses_pretrained_weights(tmp_path):
    # e.g. the original CLIP of a config (paper Table 2 "original" rows):
    # the tower's pretrained file is loaded by init_weights, strictly
    from mmclipself.testing.towers import TINY_EVA, tiny_eva
    data = write_tiny_panoptic(tmp_path / 'pan')
    emb = _embeddings(tmp_path / 'emb.pt', dim=16)
    tower = tiny_eva()
    weights = tmp_path / 'clip.pt'
    torch.save(
        {
            'visual.trunk.' + k: v
            for k, v in tower.trunk.state_dict().items()
        }, weights)
    cfg = _write_panoptic_test_cfg(
        tmp_path / 'cfg.py', data, emb, f"""
        model = dict(student=dict(arch={TINY_EVA!r},
                                  pretrained='{weights}'),
                     data_preprocessor=dict(student_size=64, crop_size=32))
    """)
    res = _run_tools_test(cfg, tmp_path / 'work')
    assert res.returncode == 0, res.stderr[-3000:]
    assert 'region_recog/box_top1' in res.stdout + res.stderr
    # a wrong pretrained file fails loudly instead of testing random weights
    torch.save({'visual.trunk.blocks.0.x': torch.zeros(1)}, weights)
    res = _run_tools_test(cfg, tmp_path / 'work')
    assert res.returncode != 0
    assert 'missing keys' in res.stderr
