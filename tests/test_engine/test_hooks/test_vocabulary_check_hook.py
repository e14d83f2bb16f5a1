# Copyright (c) mmclipself contributors. All rights reserved.
"""Vocabulary vs data checks: errors instead of silently wrong training."""
import json
import re

import pytest
import torch
from mmdet.datasets import CocoDataset
from mmengine.registry import init_default_scope
from mmengine.runner import Runner

from mmclipself.datasets import build_ov_coco
from mmclipself.engine.hooks import VocabularyCheckHook
from mmclipself.engine.hooks.vocabulary_check_hook import check_training_labels
from mmclipself.registry import MODELS
from mmclipself.testing.detection import write_tiny_coco
from mmclipself.testing.fvit import (tiny_fvit_config, write_tower,
                                     write_vocabulary)
from mmclipself.vocab import get_class_names

COCO_CFG = 'configs/fvit/fvit_eva-vitb16_ov-coco.py'


def _write_json(path, data):
    path.write_text(json.dumps(data))
    return str(path)


def _tiny_ov_coco(tmp_path, vocabulary_names, train_split='train'):
    """The OV-COCO config, shrunk, on the tiny 3-photo COCO set.

    ``train_split='val'`` trains on all 65 classes' annotations (the cat
    and the cup are novel classes of OV-COCO).
    """
    data = write_tiny_coco(tmp_path / 'coco', 'train')
    with open(data['ann_file']) as f:
        full = json.load(f)
    train = _write_json(tmp_path / 'train.json',
                        build_ov_coco(full, train_split))
    val = _write_json(tmp_path / 'val.json', build_ov_coco(full, 'val'))
    cfg = tiny_fvit_config(
        COCO_CFG, write_tower(tmp_path / 'tower.pth'),
        write_vocabulary(tmp_path / 'vocab.pt', vocabulary_names))
    for split, ann in (('train', train), ('val', val), ('test', val)):
        loader = cfg[f'{split}_dataloader']
        loader.dataset.update(
            data_root=data['data_root'],
            ann_file=ann,
            data_prefix=data['data_prefix'])
        loader.batch_size = 1
    cfg.train_dataloader.dataset.filter_cfg = dict(
        filter_empty_gt=False, min_size=0)
    cfg.val_evaluator.ann_file = cfg.test_evaluator.ann_file = val
    cfg.train_cfg.max_epochs = 1
    cfg.optim_wrapper = dict(  # the configs' AMP needs a GPU
        type='OptimWrapper',
        optimizer=dict(type='AdamW', lr=1e-4))
    cfg.work_dir = str(tmp_path / 'work')
    return cfg


def test_the_fvit_configs_check_their_vocabulary(tmp_path):
    cfg = _tiny_ov_coco(tmp_path, get_class_names('coco65'))
    assert cfg.default_hooks.vocabulary_check.type == (
        'mmclipself.VocabularyCheckHook')
    runner = Runner.from_cfg(cfg)
    hooks = [h for h in runner.hooks if isinstance(h, VocabularyCheckHook)]
    assert len(hooks) == 1
    # the right vocabulary and base-class annotations pass every check
    hooks[0].before_train(runner)
    hooks[0].before_val(runner)
    hooks[0].before_test(runner)


def test_an_80_class_vocabulary_on_ov_coco_fails_before_training(tmp_path):
    coco80 = CocoDataset.METAINFO['classes']
    cfg = _tiny_ov_coco(tmp_path, coco80)
    runner = Runner.from_cfg(cfg)
    assert runner.model.roi_head.bbox_head.num_classes == 80
    with pytest.raises(ValueError) as e:
        runner.train()
    msg = str(e.value)
    # OV-COCO drops COCO's 'traffic light' (index 9): from there on every
    # label would be trained against another class's text
    assert msg.startswith('train_dataloader.dataset: ')
    assert "index 9: expected 'bench' (dataset), got 'traffic light'" in msg
    assert '65 dataset classes, 80 vocabulary classes' in msg
    assert str(tmp_path / 'vocab.pt') in msg
    assert 'model.roi_head.bbox_head.class_names' in msg
    assert runner.iter == 0  # not a single step was taken
    with pytest.raises(
            ValueError, match=r'^val_dataloader\.dataset: .*'
            'index 9'):
        runner.val()
    with pytest.raises(
            ValueError, match=r'^test_dataloader\.dataset: .*'
            'index 9'):
        runner.test()


def test_novel_training_labels_fail_before_training(tmp_path):
    # all annotations, not the base-class file: the cat and the cup are
    # novel (class weight 0) in OV-COCO
    cfg = _tiny_ov_coco(tmp_path, get_class_names('coco65'), 'val')
    cfg.train_dataloader.dataset = dict(
        type='ClassBalancedDataset',
        oversample_thr=0.5,
        dataset=cfg.train_dataloader.dataset)
    runner = Runner.from_cfg(cfg)
    with pytest.raises(ValueError) as e:
        runner.train()
    msg = str(e.value)
    # coco65 order: person 0, bicycle, car, motorcycle, airplane, bus,
    # train, truck, boat, bench, bird 10, cat 11
    assert msg.startswith('train_dataloader.dataset.dataset: 1 training '
                          "annotations have class 'cat' (label 11)")
    assert 'model.roi_head.bbox_head.class_weight' in msg
    assert re.search(r'e\.g\. in \S*chelsea\.png', msg)
    assert "other such classes: 'cup' (1)" in msg
    assert runner.iter == 0


class _Dataset:
    """The data-list interface of a detection dataset."""

    def __init__(self, labels_per_image, ignore=()):
        self.infos = [
            dict(
                img_path=f'img{i}.jpg',
                instances=[
                    dict(bbox_label=lab, ignore_flag=int((i, j) in ignore))
                    for j, lab in enumerate(labels)
                ]) for i, labels in enumerate(labels_per_image)
        ]

    def __len__(self):
        return len(self.infos)

    def get_data_info(self, i):
        return self.infos[i]


def test_training_label_counts_and_ignored_instances():
    names = ['a', 'b', 'c']
    weight = [1., 0., 0., 0.6]  # b and c novel, background last
    data = _Dataset([[0, 2], [], [2, 2, 0], [1]], ignore={(3, 0)})
    with pytest.raises(ValueError) as e:
        check_training_labels(data, names, weight, 'ds', 'w')
    # c: three annotations, first in img0; b's only one is ignored
    assert str(e.value).startswith(
        "ds: 3 training annotations have class 'c' (label 2), which has "
        'loss weight 0 in w (a novel class), e.g. in img0.jpg.')
    check_training_labels(_Dataset([[0], [0, 0]]), names, weight, 'ds',
                          'w')  # base only
    check_training_labels(
        _Dataset([[1]], ignore={(0, 0)}), names, weight, 'ds', 'w')


def _tiny_head(tmp_path, **kwargs):
    init_default_scope('mmdet')
    cfg = tiny_fvit_config(
        COCO_CFG,
        write_tower(tmp_path / 'tower.pth'),
        write_vocabulary(tmp_path / 'v.pt', ['person', 'cat', 'spoon']),
        base_classes=['person', 'spoon'])
    head = cfg.model.roi_head.bbox_head
    head.update(kwargs)
    return MODELS.build(head)


@pytest.mark.parametrize('bg_weight', [0.0, -0.5])
def test_bg_weight_must_be_positive(tmp_path, bg_weight):
    with pytest.raises(
            ValueError, match=f'bg_weight must be > 0.*got '
            f'{bg_weight}'):
        _tiny_head(tmp_path, bg_weight=bg_weight)


def test_the_loss_guard_names_a_novel_target(tmp_path):
    n = 4
    torch.manual_seed(0)
    args = lambda labels: (  # noqa: E731
        torch.randn(n, 4), torch.randn(n, 4),
        torch.cat([torch.zeros(n, 1), torch.rand(n, 4) * 50], 1),
        torch.tensor(labels), torch.ones(n), torch.zeros(n, 4),
        torch.zeros(n, 4))
    head = _tiny_head(tmp_path)
    assert not head.check_labels
    # the failure the guard is for: label 1 (cat) is novel
    loss = head.loss(*args([0, 1, 3, 3]))['loss_cls']
    assert torch.isnan(loss)
    assert torch.isfinite(head.loss(*args([0, 2, 3, 3]))['loss_cls'])
    head = _tiny_head(tmp_path, check_labels=True)
    with pytest.raises(
            ValueError,
            match=r"1 sampled RoIs have target class 'cat' "
            r'\(label 1\)'):
        head.loss(*args([0, 1, 3, 3]))
    assert torch.isfinite(head.loss(*args([0, 2, 3, 3]))['loss_cls'])


def test_a_metric_with_another_clips_text_fails_before_testing(tmp_path):
    from types import SimpleNamespace

    from mmclipself.evaluation import RegionRecognitionMetric
    from mmclipself.models import CLIPSelfDistiller
    from mmclipself.vocab import Vocabulary, save_vocabulary

    def metric(model_name):
        path = str(tmp_path / f'{model_name}.pt')
        save_vocabulary(
            Vocabulary(['cat', 'cup'],
                       torch.eye(2, 512),
                       provenance=dict(model=model_name)), path)
        return RegionRecognitionMetric(path)

    with torch.device('meta'):  # a real EVA02-CLIP B/16, no values needed
        model = CLIPSelfDistiller(
            student=dict(type='EVA02CLIPViT', arch='eva02-b16'))
    hook = VocabularyCheckHook()
    for key in ('val', 'test'):
        loop = SimpleNamespace(
            evaluator=SimpleNamespace(metrics=[metric('ViT-B-16-quickgelu')]))
        runner = SimpleNamespace(model=model, **{f'{key}_loop': loop})
        # OpenAI ViT-B/16 text and EVA02 B/16 image both embed to 512-d
        with pytest.raises(
                ValueError,
                match=f'{key}_evaluator Region.*'
                'ViT-B-16-quickgelu text tower.*EVA02-B-16'):
            hook._check_metric_towers(runner, f'{key}_evaluator', loop)
    loop.evaluator.metrics = [metric('EVA02-B-16')]
    hook._check_metric_towers(runner, 'test_evaluator', loop)  # matches
    # the distillation configs run the hook too
    from mmengine.config import Config

    from mmclipself.testing.fvit import REPO
    cfg = Config.fromfile(f'{REPO}/configs/clipself/eva_vitb16_coco.py')
    assert cfg.default_hooks.vocabulary_check.type == \
        'mmclipself.VocabularyCheckHook'


def test_voc20b_background_merge_is_accepted_only_with_its_metric():
    """VOC-20b: 21 dataset classes (20 + background), 59 model classes.

    With ``BackgroundIoUMetric`` (which merges every class past the 20 into
    background) the first 20 must match the vocabulary; without it, or
    with the 20 in another order, the check fails.
    """
    from types import SimpleNamespace

    import torch.nn as nn

    from mmclipself.evaluation.metrics import BackgroundIoUMetric
    from mmclipself.vocab import get_class_names
    vocab = list(get_class_names('voc20b'))
    assert len(vocab) == 59
    model = nn.Module()
    model.class_names = vocab
    voc = vocab[:20] + ['background']
    hook = VocabularyCheckHook()

    def run(classes, metric):
        dataset = SimpleNamespace(metainfo=dict(classes=tuple(classes)))
        loop = SimpleNamespace(evaluator=SimpleNamespace(metrics=[metric]))
        runner = SimpleNamespace(model=model)
        hook._check(
            runner,
            'test_dataloader',
            SimpleNamespace(dataset=dataset),
            loop=loop)

    run(voc, BackgroundIoUMetric())
    with pytest.raises(ValueError, match='test_dataloader'):
        run(voc, object())  # a plain metric: 21 classes are not the 59
    swapped = [voc[1], voc[0]] + voc[2:]
    with pytest.raises(ValueError, match='test_dataloader'):
        run(swapped, BackgroundIoUMetric())


def test_a_panoptic_model_must_count_the_datasets_things():
    """A wrong thing count splits stuff into instances (PQ drops, no error)."""
    from types import SimpleNamespace

    import torch.nn as nn
    names = ['cat', 'person', 'wall', 'sky']
    model = nn.Module()
    model.class_names = names
    model.num_things_classes = 3
    dataset = SimpleNamespace(
        metainfo=dict(
            classes=tuple(names),
            thing_classes=('cat', 'person'),
            stuff_classes=('wall', 'sky')))
    hook = VocabularyCheckHook()
    runner = SimpleNamespace(model=model)
    loader = SimpleNamespace(dataset=dataset)
    with pytest.raises(ValueError,
                       match='2 thing classes .* first 3 classes as things'):
        hook._check(runner, 'test_dataloader', loader)
    # training labels are checked against the training vocabulary only
    hook._check(runner, 'train_dataloader', loader)
    model.num_things_classes = 2
    hook._check(runner, 'val_dataloader', loader)
