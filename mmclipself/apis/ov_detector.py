# Copyright (c) mmclipself contributors. All rights reserved.
"""Open-vocabulary detection with F-ViT on any vocabulary.

An F-ViT checkpoint stores neither the frozen CLIP tower (it is read from the
tower's ``pretrained`` source) nor the vocabulary (a text-embedding file the
config points to), so the same checkpoint detects any set of classes:

.. code-block:: python

    from mmclipself.apis import (inference_ov_detector, init_ov_detector,
                                 set_vocabulary)

    model = init_ov_detector(
        'configs/fvit/fvit_eva-vitb16_ov-coco.py', 'fvit_coco.pth',
        vocabulary=['cat', 'coffee cup', 'person'])
    result = inference_ov_detector(model, 'photo.jpg')  # a DetDataSample
    set_vocabulary(model, 'data/text_embeddings/eva02-b16_lvis.pt')

:class:`~mmclipself.apis.OVDetInferencer` does the same the MMDetection way
(``texts=`` per call, MMDetection's visualiser); both build the detector
with :func:`init_ov_detector`.

Free-text class names are encoded with the 63 ViLD prompts and a
"background" entry (:func:`encode_vocabulary`, the same recipe as
``tools/generate_text_embeddings.py``) into a cached ``.pt`` file, by the
text tower of the detector's CLIP: derived from the image tower
(:func:`~mmclipself.apis.text_tower.detector_text_tower`) unless
``text_model`` / ``text_pretrained`` are given.

A custom vocabulary is a transfer test: every class counts as a base class
(CLIP score fusion uses ``alpha`` for all of them), as in the CLIPSelf
release's transfer heads.
"""
import copy
import os.path as osp
from pathlib import Path
from typing import List, Mapping, Optional, Sequence, Union

import numpy as np
import torch.nn as nn
from mmcv.transforms import Compose
from mmengine.config import Config, ConfigDict
from mmengine.registry import init_default_scope

from mmclipself.vocab import check_text_matches_image, load_vocabulary
from .model_loading import build_and_load
from .text_tower import detector_text_tower
from .vocabulary import VocabularyType, resolve_vocabulary, vocabulary_names

ImagesType = Union[str, np.ndarray, Sequence[str], Sequence[np.ndarray]]


def _bbox_head_cfg(cfg: Config) -> ConfigDict:
    try:
        head = cfg.model.roi_head.bbox_head
    except AttributeError:
        head = None
    if not isinstance(head, Mapping) or 'cls_predictor_cfg' not in head:
        raise TypeError(
            'not an open-vocabulary detector config: expected '
            'model.roi_head.bbox_head.cls_predictor_cfg (an F-ViT config '
            'such as configs/fvit/fvit_eva-vitb16_ov-coco.py)')
    return head


def _configure_vocabulary(cfg: Config, path: str) -> None:
    """Point the config at ``path``: all classes base, sizes from the file."""
    names = vocabulary_names(path)
    head = _bbox_head_cfg(cfg)
    head.cls_predictor_cfg.embeddings = path
    head.num_classes = None  # read from the file
    head.base_classes = None  # transfer: every class is base
    mask_head = cfg.model.roi_head.get('mask_head')
    if mask_head is not None:
        if not mask_head.get('class_agnostic', False):
            raise ValueError('a class-specific mask head cannot change '
                             'vocabulary; use class_agnostic=True')
        mask_head.num_classes = len(names)


def _sync_dataset_meta(model: nn.Module) -> List[str]:
    names = list(model.roi_head.bbox_head.class_names)
    # mmdet's visualiser and metrics label boxes with dataset_meta['classes']
    model.dataset_meta = dict(classes=tuple(names), palette='random')
    return names


def _is_class_list(vocabulary: Optional[VocabularyType]) -> bool:
    return isinstance(vocabulary, (list, tuple))


def _load_config(config: Union[str, Path, Config]) -> Config:
    if isinstance(config, (str, Path)):
        if not osp.isfile(str(config)):
            raise FileNotFoundError(f'config not found: {config}')
        return Config.fromfile(str(config))
    if isinstance(config, Config):
        return copy.deepcopy(config)
    raise TypeError('config must be a file name or a Config, got '
                    f'{type(config).__name__}')


def _is_remote(path: str) -> bool:
    return '://' in path


def init_ov_detector(config: Union[str, Path, Config],
                     checkpoint: Optional[str] = None,
                     vocabulary: Optional[VocabularyType] = None,
                     device: str = 'cpu',
                     cfg_options: Optional[dict] = None,
                     text_model: Optional[str] = None,
                     text_pretrained: Optional[str] = None,
                     cache_dir: Optional[str] = None) -> nn.Module:
    """Build an F-ViT detector on a vocabulary and load its checkpoint.

    The vocabulary is written into the config (``cls_predictor_cfg``
    ``embeddings``, ``num_classes=None``, ``base_classes=None``) before
    the model is built, then the checkpoint is loaded strictly: it holds
    neither the vocabulary nor the frozen CLIP tower, which is read from the
    tower's ``pretrained`` source (weights file or open_clip cache).

    Args:
        config: Config file or :class:`Config` (not modified).
        checkpoint: Detector checkpoint. ``None``: the CLIP tower is loaded
            from ``pretrained`` and the detector layers are random.
        vocabulary: ``None`` keeps the config's vocabulary (and its base /
            novel split); otherwise see :func:`resolve_vocabulary`.
        device: Device of the model.
        cfg_options: Overrides merged into the config.
        text_model: open_clip model name to encode class names; default:
            derived from the image tower (:func:`detector_text_tower`).
        text_pretrained: Its weights; default: derived likewise.
        cache_dir: Cache of encoded vocabularies.

    Returns:
        The detector in eval mode, with ``cfg`` and ``dataset_meta``
        (``classes`` = the vocabulary) set.

    Raises:
        FileNotFoundError: Missing config, checkpoint or vocabulary file.
        CheckpointMismatchError: The checkpoint does not match the model
            (a ``RuntimeError`` naming the file and listing the missing,
            unexpected and wrong-shape keys).
    """
    cfg = _load_config(config)
    if cfg_options:
        cfg.merge_from_dict(cfg_options)
    init_default_scope(cfg.get('default_scope', 'mmclipself'))
    head = _bbox_head_cfg(cfg)
    if vocabulary is not None:
        if _is_class_list(vocabulary):
            text_model, text_pretrained = detector_text_tower(
                cfg, text_model, text_pretrained)
        path = resolve_vocabulary(vocabulary, text_model, text_pretrained,
                                  device, cache_dir)
        _configure_vocabulary(cfg, path)
    elif not head.cls_predictor_cfg.get('embeddings'):
        raise ValueError('the config sets no vocabulary '
                         '(cls_predictor_cfg.embeddings): pass vocabulary=')
    if checkpoint is not None and not _is_remote(checkpoint) \
            and not osp.isfile(checkpoint):
        raise FileNotFoundError(f'checkpoint not found: {checkpoint}')

    model = build_and_load(cfg, checkpoint)
    _sync_dataset_meta(model)
    model.cfg = cfg
    model.to(device)
    model.eval()
    return model


def set_vocabulary(model: nn.Module,
                   vocabulary: VocabularyType,
                   text_model: Optional[str] = None,
                   text_pretrained: Optional[str] = None,
                   cache_dir: Optional[str] = None) -> List[str]:
    """Swap the vocabulary of a built F-ViT detector in place.

    Rebuilds ``roi_head.bbox_head.fc_cls`` on the new text embeddings,
    keeping its learned state (temperature, and the background embedding if
    it is learned), sets ``bbox_head.num_classes``, makes every class a base
    class (``class_weight``; the background weight is kept) and updates
    ``model.dataset_meta`` and ``model.cfg``. The model is unchanged if the
    vocabulary is rejected.

    Args:
        model: An F-ViT detector (e.g. from :func:`init_ov_detector`).
        vocabulary: See :func:`resolve_vocabulary`.
        text_model: open_clip model name to encode class names; default:
            derived from the image tower (:func:`detector_text_tower`).
        text_pretrained: Its weights; default: derived likewise.
        cache_dir: Cache of encoded vocabularies.

    Returns:
        The new class names (background excluded).

    Raises:
        TypeError: Not an F-ViT detector.
        ValueError: The embeddings do not fit the classifier, come from
            another CLIP's text tower, or the box regressor / mask head is
            class-specific.
    """
    roi_head = getattr(model, 'roi_head', None)
    head = getattr(roi_head, 'bbox_head', None)
    old = getattr(head, 'fc_cls', None)
    if old is None or not hasattr(old, 'text_embeddings'):
        raise TypeError('set_vocabulary needs an F-ViT detector (roi_head.'
                        'bbox_head.fc_cls a TextEmbeddingClassifier)')
    if not head.reg_class_agnostic:
        raise ValueError('a class-specific box regressor cannot change '
                         'vocabulary (reg_class_agnostic=False)')
    mask_head = getattr(roi_head, 'mask_head', None)
    if mask_head is not None and not getattr(mask_head, 'class_agnostic',
                                             False):
        raise ValueError('a class-specific mask head cannot change '
                         'vocabulary')
    if _is_class_list(vocabulary):
        text_model, text_pretrained = detector_text_tower(
            model, text_model, text_pretrained)
    path = resolve_vocabulary(vocabulary, text_model, text_pretrained,
                              str(old.temperature.device), cache_dir)
    names = vocabulary_names(path)  # also rejects an empty vocabulary
    check_text_matches_image(
        load_vocabulary(path),
        getattr(getattr(model, 'backbone', None), 'clip', None),
        'set_vocabulary')
    head.set_vocabulary(path, base_classes=None)  # transfer: all base
    if mask_head is not None:
        mask_head.num_classes = len(names)
    cfg = getattr(model, 'cfg', None)
    if isinstance(cfg, Config):
        _configure_vocabulary(cfg, path)
    return _sync_dataset_meta(model)


def load_image(path: str) -> np.ndarray:
    """Read an image file as a BGR ``uint8`` array, with clear errors.

    Raises:
        FileNotFoundError: No such file.
        ValueError: The file is empty or not a decodable image.
    """
    import mmcv
    if not osp.isfile(path):
        raise FileNotFoundError(f'image not found: {path}')
    if osp.getsize(path) == 0:
        raise ValueError(f'image file is empty: {path}')
    try:
        img = mmcv.imread(path, flag='color', channel_order='bgr')
    except Exception as e:  # noqa: BLE001 - decoder errors vary by backend
        raise ValueError(f'cannot decode image {path}: {e}') from e
    if img is None or img.size == 0:
        raise ValueError(f'cannot decode image {path}: not an image file or '
                         'corrupt')
    return img


def test_pipeline_cfg(cfg: Config, loader: Optional[str] = None) -> list:
    """The config's test pipeline for raw images (no annotations), as dicts.

    ``LoadAnnotations`` is dropped and ``LoadImageFromFile`` is replaced by
    ``loader`` if given (e.g. ``'mmdet.LoadImageFromNDArray'``). Transforms
    are named in the test dataset's scope (``_scope_``), so they resolve
    whatever the current default scope.
    """
    from mmdet.utils import get_test_pipeline_cfg
    dataset = cfg.test_dataloader.dataset
    while 'pipeline' not in dataset and 'dataset' in dataset:
        dataset = dataset.dataset
    scope = dataset.get('_scope_')
    pipeline = []
    for t in copy.deepcopy(get_test_pipeline_cfg(cfg)):
        name = t['type'] if isinstance(t['type'], str) else ''
        if name.split('.')[-1] == 'LoadAnnotations':
            continue
        if name.split('.')[-1] == 'LoadImageFromFile' and loader:
            t = dict(type=loader)
        elif scope and name and '.' not in name:
            t['type'] = f'{scope}.{name}'
        pipeline.append(t)
    return pipeline


def build_test_pipeline(cfg: Config, from_array: bool = False) -> Compose:
    """The config's test pipeline for raw images (no annotations).

    See :func:`test_pipeline_cfg`; for arrays, the image loader is
    MMDetection's ``LoadImageFromNDArray``.
    """
    return Compose(
        test_pipeline_cfg(
            cfg, 'mmdet.LoadImageFromNDArray' if from_array else None))


def inference_ov_detector(model: nn.Module, imgs: ImagesType):
    """Detect objects of the model's vocabulary in images.

    MMDetection's :func:`mmdet.apis.inference_detector` with the config's
    test pipeline for raw images (see :func:`build_test_pipeline`).

    Args:
        model: A detector from :func:`init_ov_detector`.
        imgs: Image file(s) or BGR array(s), not mixed.

    Returns:
        A :class:`DetDataSample` (``pred_instances``: ``bboxes`` in original
        image pixels, ``scores``, ``labels`` indexing
        ``model.dataset_meta['classes']``), or a list for a list input.
    """
    from mmdet.apis import inference_detector
    items = list(imgs) if isinstance(imgs, (list, tuple)) else [imgs]
    if not items:
        raise ValueError('no image given')
    from_array = isinstance(items[0], np.ndarray)
    if any(isinstance(i, np.ndarray) != from_array for i in items):
        raise TypeError('give either image files or arrays, not both')
    if not from_array:
        for path in items:
            if not osp.isfile(str(path)):
                raise FileNotFoundError(f'image not found: {path}')
    pipeline = build_test_pipeline(model.cfg, from_array)
    return inference_detector(model, imgs, test_pipeline=pipeline)
