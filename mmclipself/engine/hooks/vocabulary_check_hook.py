# Copyright (c) mmclipself contributors. All rights reserved.
"""Fail at the start of train / val / test when vocabulary and data differ.

Labels index the vocabulary by position, so a vocabulary file written for
other classes (or in another order) trains and scores every box against the
wrong text without any error; a training annotation of a class whose loss
weight is 0 (a novel class) gives ``loss: nan`` for the whole run. This hook
turns both into errors that name the dataloader, the class and the file.
"""
from typing import Iterator, List, Optional, Sequence, Tuple

import numpy as np
import torch
import torch.nn as nn
from mmengine.hooks import Hook
from mmengine.logging import print_log
from mmengine.model import is_model_wrapper

from mmclipself.registry import HOOKS
from mmclipself.vocab import check_class_order, check_text_matches_image


def find_vocabulary(model: nn.Module) -> Optional[Tuple[str, nn.Module]]:
    """The shallowest submodule exposing a ``class_names`` vocabulary.

    For F-ViT that is ``roi_head.bbox_head`` (its ``class_names`` are those
    of its :class:`TextEmbeddingClassifier`).

    Returns:
        ``(name, module)``, or ``None`` when no module has class names.
    """
    found = []
    for name, module in model.named_modules():
        names = getattr(module, 'class_names', None)
        if isinstance(names, (list, tuple)) and names:
            found.append((name.count('.') if name else -1, name, module))
    if not found:
        return None
    _, name, module = min(found, key=lambda t: t[0])
    return name, module


def _vocabulary_source(module: nn.Module) -> Optional[str]:
    """The file a vocabulary module was read from, if it says so."""
    for m in module.modules():
        prov = getattr(m, 'vocabulary_provenance', None)
        if isinstance(prov, dict):
            for key in ('file', 'path', 'source'):
                if isinstance(prov.get(key), str):
                    return prov[key]
        cfg = getattr(m, 'cls_predictor_cfg', None)
        if hasattr(cfg, 'get') and isinstance(cfg.get('embeddings'), str):
            return cfg['embeddings']
    return None


def _merged_background(loop, classes: Sequence[str],
                       names: Sequence[str]) -> Optional[str]:
    """The background a metric merges extra vocabulary classes into.

    A :class:`~mmclipself.evaluation.BackgroundIoUMetric` (VOC-20b,
    segmentation facts §2.4) scores a vocabulary longer than the dataset:
    the dataset's classes but its last (``background_name``) must then be
    the vocabulary's first ones, and the rest counts as background.
    """
    from mmclipself.evaluation.metrics import BackgroundIoUMetric
    evaluator = getattr(loop, 'evaluator', None)
    for metric in getattr(evaluator, 'metrics', ()):
        if isinstance(metric, BackgroundIoUMetric) and classes and \
                classes[-1] == metric.background_name and \
                len(names) >= len(classes):
            return metric.background_name
    return None


def _check_thing_count(model: nn.Module, dataset, where: str) -> None:
    """A panoptic model's thing classes must be the dataset's.

    Panoptic post-processing treats the first ``num_things_classes`` labels
    as things (instances) and the rest as stuff; a wrong count splits stuff
    into instances or merges things, and PQ drops without an error.
    """
    ours = getattr(model, 'num_things_classes', None)
    things = getattr(dataset, 'metainfo', {}).get('thing_classes')
    if not isinstance(ours, int) or not things:
        return
    if ours != len(things):
        raise ValueError(
            f'{where}: the dataset lists {len(things)} thing classes '
            f'(first {things[0]!r}), the model treats the first {ours} '
            'classes as things: set panoptic_head.test_num_things_classes '
            f'(or set_vocabulary(..., num_things_classes={len(things)}))')


def _leaf_datasets(dataset, where: str) -> Iterator[Tuple[str, object]]:
    """The datasets inside wrappers, with their config keys.

    ``ConcatDataset`` (``datasets``) and single-dataset wrappers such as
    ``ClassBalancedDataset`` or ``RepeatDataset`` (``dataset``) are opened.
    """
    inner = getattr(dataset, 'datasets', None)
    if isinstance(inner, (list, tuple)):
        for i, d in enumerate(inner):
            yield from _leaf_datasets(d, f'{where}.datasets[{i}]')
    elif getattr(dataset, 'dataset', None) is not None:
        yield from _leaf_datasets(dataset.dataset, f'{where}.dataset')
    else:
        yield where, dataset


def _instance_labels(dataset) -> Tuple[np.ndarray, np.ndarray]:
    """Labels of a detection dataset's trained instances.

    Reads ``get_data_info(i)['instances']`` (MMDetection's layout);
    instances with ``ignore_flag`` set are not trained and are left out.

    Returns:
        ``(labels, image_indices)``, two int64 arrays of equal length.
    """
    per_image: List[List[int]] = []
    for i in range(len(dataset)):
        per_image.append([
            inst['bbox_label']
            for inst in dataset.get_data_info(i).get('instances', ())
            if not inst.get('ignore_flag', 0)
        ])
    counts = np.fromiter((len(x) for x in per_image),
                         dtype=np.int64,
                         count=len(per_image))
    labels = np.fromiter((lab for x in per_image for lab in x),
                         dtype=np.int64,
                         count=int(counts.sum()))
    return labels, np.repeat(np.arange(len(per_image)), counts)


def _image_name(dataset, index: int) -> str:
    info = dataset.get_data_info(index)
    for key in ('img_path', 'file_name', 'img_id'):
        if info.get(key) is not None:
            return str(info[key])
    return f'data index {index}'


def check_training_labels(dataset, names: Sequence[str],
                          class_weight: Sequence[float], where: str,
                          source: str) -> None:
    """Raise if a training annotation has a zero-weight (novel) class.

    Args:
        dataset: A detection dataset (no wrapper).
        names: The vocabulary.
        class_weight: The loss weight of each class (``len(names)`` or more;
            further entries, e.g. background, are ignored).
        where: The dataset's config key, for the message.
        source: The class weights' module, for the message.

    Raises:
        ValueError: Naming the class, its annotation count and one image.
    """
    zero = np.asarray(class_weight, dtype=np.float64)[:len(names)] == 0
    if not zero.any():
        return
    labels, images = _instance_labels(dataset)
    labels_ok = (labels >= 0) & (labels < len(names))
    bad = np.zeros(len(labels), dtype=bool)
    bad[labels_ok] = zero[labels[labels_ok]]
    if not bad.any():
        return
    counts = np.bincount(labels[bad], minlength=len(names))
    found = np.flatnonzero(counts)
    first = int(found[np.argmax(counts[found])])
    image = _image_name(dataset,
                        int(images[np.flatnonzero(labels == first)[0]]))
    others = ', '.join(f'{names[c]!r} ({counts[c]})' for c in found
                       if c != first)
    raise ValueError(
        f'{where}: {int(counts[first])} training annotations have class '
        f'{names[first]!r} (label {first}), which has loss weight 0 in '
        f'{source} (a novel class), e.g. in {image}' +
        (f'; other such classes: {others}' if others else '') +
        '. Its -inf logit times weight 0 makes the loss NaN for the whole '
        'run: train on base-class annotations only (e.g. '
        'tools/dataset_converters/build_ov_coco.py) or add the class to '
        'the box head\'s base_classes')


@HOOKS.register_module()
class VocabularyCheckHook(Hook):
    """Check the model's vocabulary against every dataloader's classes.

    Before training, validation and testing, the classes of each dataset of
    the loop's dataloader (inside ``ConcatDataset`` /
    ``ClassBalancedDataset`` wrappers) must equal the model's vocabulary in
    order (see :func:`check_class_order`); before training, no trained
    annotation may have a class of loss weight 0 (see
    :func:`check_training_labels`). Models without a vocabulary (no module
    with ``class_names``) and datasets without ``classes`` are skipped.
    Before validation and testing, metrics that score against text
    embeddings (``vocabulary_provenance``, e.g. the region-recognition
    metric of the distillation configs) must hold embeddings of the model's
    CLIP (:func:`~mmclipself.vocab.check_text_matches_image`).

    The vocabulary is the shallowest module with ``class_names``
    (``roi_head.bbox_head`` for F-ViT); its class weights are that module's
    ``class_weight``, if any.

    Args:
        check_labels: Scan the training annotations for zero-weight classes
            (one pass over the data list, only when some class has weight
            0).
    """

    priority = 'VERY_HIGH'

    def __init__(self, check_labels: bool = True) -> None:
        self.check_labels = check_labels

    def before_train(self, runner) -> None:
        self._check(runner, 'train_dataloader', runner.train_dataloader,
                    self.check_labels)

    def before_val(self, runner) -> None:
        self._check(
            runner,
            'val_dataloader',
            runner.val_dataloader,
            loop=runner.val_loop)
        self._check_metric_towers(runner, 'val_evaluator', runner.val_loop)

    def before_test(self, runner) -> None:
        self._check(
            runner,
            'test_dataloader',
            runner.test_dataloader,
            loop=runner.test_loop)
        self._check_metric_towers(runner, 'test_evaluator', runner.test_loop)

    @staticmethod
    def _check_metric_towers(runner, key: str, loop) -> None:
        """Metrics' text embeddings must come from the model's CLIP.

        A metric that scores features against text embeddings (e.g.
        :class:`RegionRecognitionMetric`) exposes their provenance as
        ``vocabulary_provenance``; it is checked against the model's first
        CLIP image tower (the distiller's student, F-ViT's tower) with
        :func:`~mmclipself.vocab.check_text_matches_image`.
        """
        from mmclipself.models.backbones.base_clip_vit import BaseCLIPViT
        model = runner.model.module if is_model_wrapper(
            runner.model) else runner.model
        tower = next(
            (m for m in model.modules() if isinstance(m, BaseCLIPViT)), None)
        evaluator = getattr(loop, 'evaluator', None)
        if tower is None or evaluator is None:
            return
        for metric in getattr(evaluator, 'metrics', ()):
            provenance = getattr(metric, 'vocabulary_provenance', None)
            if isinstance(provenance, dict):
                source = getattr(metric, 'source', None)
                where = f'{key} {type(metric).__name__}' + (f' ({source})'
                                                            if source else '')
                check_text_matches_image(provenance, tower, where)

    def _check(self,
               runner,
               key: str,
               dataloader,
               check_labels: bool = False,
               loop=None) -> None:
        model = runner.model.module if is_model_wrapper(
            runner.model) else runner.model
        found = find_vocabulary(model)
        dataset = getattr(dataloader, 'dataset', None)
        if found is None or dataset is None:
            return
        name, module = found
        # a model with its own training vocabulary (CATSeg) exposes it as
        # `train_class_names`; `class_names` is then the test vocabulary
        attr = 'class_names'
        if key == 'train_dataloader' and getattr(module, 'train_class_names',
                                                 None):
            attr = 'train_class_names'
        names = list(getattr(module, attr))
        file = _vocabulary_source(module)
        where = f'model.{name}.{attr}' if name else f'model.{attr}'
        source = where + (f' from {file}' if file else '')
        weight = getattr(module, 'class_weight', None)
        checked = 0
        for where, leaf in _leaf_datasets(dataset, f'{key}.dataset'):
            classes = getattr(leaf, 'metainfo', {}).get('classes')
            if not classes:
                continue
            background = _merged_background(loop, classes, names)
            if background:
                # VOC-20b: the dataset's last class is the background the
                # metric merges every extra vocabulary class into
                classes = list(classes)[:-1]
            check_class_order(classes,
                              names[:len(classes)] if background else names,
                              where, source)
            if key != 'train_dataloader':
                _check_thing_count(model, leaf, where)
            checked += 1
            if check_labels and isinstance(weight, torch.Tensor) \
                    and hasattr(leaf, 'get_data_info'):
                check_training_labels(leaf, names,
                                      weight.detach().cpu().tolist(), where,
                                      f'model.{name}.class_weight')
        if checked:
            print_log(
                f'{key}: classes match the vocabulary ({len(names)} '
                f'classes, {source})',
                logger='current')
