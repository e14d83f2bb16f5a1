# Copyright (c) mmclipself contributors. All rights reserved.
"""MMSegmentation's ``MMSegInferencer`` for open-vocabulary segmentors."""
import copy
import os.path as osp
import warnings
import zlib
from pathlib import Path
from typing import List, Optional, Sequence, Tuple, Union

import numpy as np
import torch.nn as nn
from mmengine.config import Config
from mmengine.dataset import Compose
from mmseg.apis import MMSegInferencer

from mmclipself.registry import INFERENCERS
from .model_loading import build_and_load
from .ov_detector import _is_remote, _load_config

TextsType = Union[str, Sequence[str]]
#: Transforms of a test pipeline that read labels (left out here).
ANNOTATION_LOADERS = ('LoadAnnotations', 'LoadDepthAnnotation',
                      'LoadSegAnnotations16')


def class_color(name: str) -> Tuple[int, int, int]:
    """A colour for a class, fixed by its name (RGB, 0-255).

    A class keeps its colour in every vocabulary it belongs to.
    """
    rng = np.random.RandomState(zlib.crc32(name.encode('utf-8')))
    return tuple(int(c) for c in rng.randint(0, 256, 3))


def _set_dataset_meta(model: nn.Module) -> None:
    names = tuple(model.class_names)
    model.dataset_meta = dict(
        classes=names, palette=[list(class_color(n)) for n in names])


@INFERENCERS.register_module()
class OVSegInferencer(MMSegInferencer):
    """Open-vocabulary semantic segmentation on any class names, per call.

    MMSegmentation's :class:`~mmseg.apis.MMSegInferencer` (same call, same
    outputs, drawn with MMSegmentation's ``SegLocalVisualizer``) for
    segmentors with a replaceable vocabulary
    (:class:`~mmclipself.models.CATSeg`), whose ``texts`` are the classes of
    the call:

    .. code-block:: python

        from mmclipself.apis import OVSegInferencer

        inferencer = OVSegInferencer(
            'configs/catseg/catseg_openai-vitb16_cvpr_coco-stuff.py',
            'catseg.pth')
        out = inferencer('photo.jpg', texts=['cat', 'sofa', 'wall'],
                         out_dir='outputs')
        out['predictions']  # (H, W) label ids into ['cat', 'sofa', 'wall']

    ``texts`` replace the segmentor's prediction vocabulary with
    ``set_vocabulary`` (no weight depends on it) and stay the vocabulary of
    later calls until other ``texts`` are given (as
    :class:`~mmclipself.apis.OVDetInferencer`); the segmentor encodes them
    with its own text tower (its templates and synonym rule) and keeps the
    embeddings while they are in use. ``model.dataset_meta`` (``classes``,
    ``palette``) follows, so the visualiser labels the predicted classes;
    each class is coloured by its name (:func:`class_color`).

    The checkpoint is loaded strictly (every tensor, the right shapes, or an
    error naming the keys) after the frozen parts (e.g. the 2023 text tower,
    left out of checkpoints) are read from their ``pretrained`` source.

    Args:
        model: Config file or :class:`Config` of a Cat-Seg segmentor.
        weights: Checkpoint; ``None`` initialises the model as for training
            (the CLIP towers from their ``pretrained``, the rest random).
        vocabulary: Initial vocabulary: a benchmark name
            (``mmclipself.vocab.list_vocabularies()``), a class file or a
            list; default: the config's ``test_vocabulary``.
        device: Device; default: CUDA if available.
        scope: Default scope; default: the config's ``default_scope``.
        show_progress: Show a progress bar.
        cfg_options: Overrides merged into the config.
    """

    def __init__(self,
                 model: Union[str, Path, Config],
                 weights: Optional[str] = None,
                 vocabulary: Optional[TextsType] = None,
                 device: Optional[str] = None,
                 scope: Optional[str] = None,
                 show_progress: bool = True,
                 cfg_options: Optional[dict] = None) -> None:
        cfg = _load_config(model)
        if cfg_options:
            cfg.merge_from_dict(cfg_options)
        if weights is not None and not _is_remote(weights) \
                and not osp.isfile(weights):
            raise FileNotFoundError(f'checkpoint not found: {weights}')
        self._vocabulary = vocabulary
        super().__init__(
            model=cfg,
            weights=weights,
            device=device,
            scope=scope or cfg.get('default_scope') or 'mmseg')
        self.show_progress = show_progress
        self._sync_dataset_meta()

    def _init_model(self,
                    cfg: Config,
                    weights: Optional[str],
                    device: str = 'cpu') -> nn.Module:
        """Build the segmentor and load ``weights`` strictly."""
        if weights is None:
            warnings.warn('no checkpoint: the segmentor is initialised as '
                          'for training (random layers)')
        model = build_and_load(cfg, weights, check=_check_segmentor)
        if self._vocabulary is not None:
            vocabulary = self._vocabulary
            if not isinstance(vocabulary, str):
                vocabulary = list(self.parse_texts(vocabulary))
            model.set_vocabulary(vocabulary)
        model.cfg = cfg
        model.to(device)
        model.eval()
        _set_dataset_meta(model)
        return model

    def _sync_dataset_meta(self) -> None:
        """Classes and palette of the vocabulary, for the visualiser."""
        _set_dataset_meta(self.model)
        if self.visualizer is not None:
            self.visualizer.set_dataset_meta(**self.model.dataset_meta)

    def _init_pipeline(self, cfg: Config) -> Compose:
        """The config's test pipeline for raw images.

        Label loaders (:data:`ANNOTATION_LOADERS`, e.g. the 16-bit
        ``mmclipself.LoadSegAnnotations16``) are dropped and
        ``LoadImageFromFile`` becomes MMSegmentation's ``InferencerLoader``
        (files or arrays). The config is not modified.
        """
        dataset = cfg.test_dataloader.dataset
        while 'pipeline' not in dataset and 'dataset' in dataset:
            dataset = dataset.dataset
        pipeline = []
        for t in copy.deepcopy(dataset.pipeline):
            name = str(t['type']).split('.')[-1]
            if name in ANNOTATION_LOADERS:
                continue
            if name == 'LoadImageFromFile':
                t = dict(type='InferencerLoader')
            pipeline.append(t)
        if not any(t['type'] == 'InferencerLoader' for t in pipeline):
            raise ValueError('LoadImageFromFile is not found in the test '
                             'pipeline (test_dataloader.dataset.pipeline)')
        return Compose(pipeline)

    @staticmethod
    def parse_texts(texts: TextsType) -> Tuple[str, ...]:
        """Class names from a list or a string.

        Args:
            texts: A list of names (a name may hold comma-separated
                synonyms, ``'sofa, couch'``), or one string: classes
                separated by periods if it holds one (``'sofa, couch. cat'``:
                commas then separate synonyms), else by commas
                (``'cat, sofa, wall'``).

        Returns:
            The stripped, non-empty names in their order.

        Raises:
            TypeError: Not one list of names (e.g. one list per image).
            ValueError: No name is left.
        """
        if isinstance(texts, str):
            texts = texts.split('.' if '.' in texts else ',')
        elif not all(isinstance(t, str) for t in texts):
            kinds = sorted({type(t).__name__ for t in texts})
            raise TypeError(
                'texts: one vocabulary for all images, a list of class '
                'names or a comma/period-separated string, got a '
                f'{type(texts).__name__} of {kinds}')
        names = tuple(n for n in (t.strip() for t in texts) if n)
        if not names:
            raise ValueError('texts: the class list is empty, give class '
                             'names, e.g. "cat, sofa, wall"')
        return names

    def set_texts(self, texts: TextsType) -> List[str]:
        """Make ``texts`` the vocabulary (see :meth:`parse_texts`).

        Returns:
            The vocabulary, in label order.

        Raises:
            ValueError: Repeated names, empty synonyms or fewer than two
                classes (Cat-Seg takes the argmax over the classes); the
                vocabulary is then unchanged.
        """
        names = self.parse_texts(texts)
        if names != tuple(self.model.class_names):
            self.model.set_vocabulary(list(names))
            self._sync_dataset_meta()
        return list(self.model.class_names)

    def __call__(self,
                 inputs,
                 return_datasamples: bool = False,
                 batch_size: int = 1,
                 texts: Optional[TextsType] = None,
                 **kwargs) -> dict:
        """Segment the classes of ``texts`` (or the current vocabulary).

        Args:
            inputs: Image file(s), folder or BGR array(s), as for
                :class:`~mmseg.apis.MMSegInferencer`.
            return_datasamples: Return ``SegDataSample`` s (with
                ``seg_logits``: the class probabilities, one channel per
                class) instead of label maps.
            batch_size: Images per forward.
            texts: The vocabulary of this and later calls (see
                :meth:`parse_texts`); ``None`` keeps the current one.
            **kwargs: ``MMSegInferencer`` keyword arguments (``out_dir``,
                ``return_vis``, ``opacity``, ``show``, ...).

        Returns:
            ``MMSegInferencer``'s ``dict(predictions, visualization)``;
            label ids index ``self.model.dataset_meta['classes']``.
        """
        if texts is not None:
            self.set_texts(texts)
        return super().__call__(
            inputs,
            return_datasamples=return_datasamples,
            batch_size=batch_size,
            **kwargs)


def _check_segmentor(model: nn.Module) -> None:
    if not (hasattr(model, 'set_vocabulary')
            and hasattr(model, 'class_names')):
        raise TypeError(
            'OVSegInferencer needs a segmentor with a replaceable '
            'vocabulary (set_vocabulary, class_names), such as '
            f'mmclipself.CATSeg; the config builds {type(model).__name__}')
