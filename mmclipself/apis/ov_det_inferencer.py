# Copyright (c) mmclipself contributors. All rights reserved.
"""MMDetection's ``DetInferencer`` for open-vocabulary detectors."""
from pathlib import Path
from typing import Dict, List, Optional, Sequence, Tuple, Union

import torch.nn as nn
from mmdet.apis import DetInferencer
from mmengine.config import Config
from mmengine.dataset import Compose

from mmclipself.registry import INFERENCERS
from .ov_detector import (_load_config, init_ov_detector, set_vocabulary,
                          test_pipeline_cfg)
from .text_tower import detector_text_tower
from .vocabulary import VocabularyType, parse_class_names, resolve_vocabulary

TextsType = Union[str, Sequence[str]]


@INFERENCERS.register_module()
class OVDetInferencer(DetInferencer):
    """Open-vocabulary detection on any class names, per call.

    MMDetection's :class:`~mmdet.apis.DetInferencer` (same call, same
    outputs, drawn with MMDetection's ``DetLocalVisualizer``) for F-ViT
    detectors, whose ``texts`` are the vocabulary of the call:

    .. code-block:: python

        from mmclipself.apis import OVDetInferencer

        inferencer = OVDetInferencer(
            'configs/fvit/fvit_eva-vitb16_ov-coco.py', 'fvit_coco.pth')
        out = inferencer('photo.jpg', texts=['cat', 'coffee cup'],
                         out_dir='outputs', pred_score_thr=0.3)
        out['predictions'][0]['labels']  # index ['cat', 'coffee cup']

    The class names are encoded (63 ViLD prompts, a background entry) by
    the text tower of the detector's CLIP, derived from its image tower
    (:func:`~mmclipself.apis.text_tower.detector_text_tower`), once per
    vocabulary: encoded vocabularies are kept by ``(texts, text tower)``
    (and cached on disk). Every class of a free-text vocabulary is a base
    class (a transfer test, as the release's transfer heads).

    Args:
        model: Config file or :class:`Config` of an F-ViT detector.
        weights: Detector checkpoint; ``None`` leaves the detector layers
            random (the CLIP tower is read from its ``pretrained``).
        device: Device; default: CUDA if available.
        scope: Default scope; default: the config's ``default_scope``.
        palette: Box colours (MMDetection's palettes; ``'random'`` fits
            any vocabulary size; ``'none'``: random).
        show_progress: Show a progress bar.
        vocabulary: Initial vocabulary (a file, class names or a
            ``dict(class_names, embeddings)``); default: the config's.
        text_model: open_clip model of the text tower; default: derived
            from the image tower's ``arch``.
        text_pretrained: Its weights (file or ``open_clip://MODEL/TAG``);
            default: the image tower's ``pretrained`` source when it holds
            a text tower (an open_clip tag or a full CLIP file; a
            CLIPSelf-refined image-only file does not).
        cache_dir: Cache of encoded vocabularies.
        cfg_options: Overrides merged into the config.
    """

    def __init__(self,
                 model: Union[str, Path, Config],
                 weights: Optional[str] = None,
                 device: Optional[str] = None,
                 scope: Optional[str] = None,
                 palette: str = 'random',
                 show_progress: bool = True,
                 vocabulary: Optional[VocabularyType] = None,
                 text_model: Optional[str] = None,
                 text_pretrained: Optional[str] = None,
                 cache_dir: Optional[str] = None,
                 cfg_options: Optional[dict] = None) -> None:
        cfg = _load_config(model)
        if cfg_options:
            cfg.merge_from_dict(cfg_options)
        self._vocabulary = vocabulary
        self.text_model = text_model
        self.text_pretrained = text_pretrained
        self.cache_dir = cache_dir
        self._text_tower: Optional[Tuple[str, str]] = None
        self._encoded: Dict[tuple, str] = {}
        self._texts: Optional[tuple] = None
        super().__init__(
            model=cfg,
            weights=weights,
            device=device,
            scope=scope or cfg.get('default_scope') or 'mmdet',
            palette=palette,
            show_progress=show_progress)

    def _init_model(self,
                    cfg: Config,
                    weights: Optional[str],
                    device: str = 'cpu') -> nn.Module:
        """Build with :func:`init_ov_detector` (strict load, CLIP tower)."""
        model = init_ov_detector(
            cfg,
            weights,
            vocabulary=self._vocabulary,
            device=device,
            text_model=self.text_model,
            text_pretrained=self.text_pretrained,
            cache_dir=self.cache_dir)
        self._apply_palette(model)
        return model

    def _apply_palette(self, model: nn.Module) -> None:
        if self.palette != 'none':
            model.dataset_meta['palette'] = self.palette

    def _init_pipeline(self, cfg: Config) -> Compose:
        """The test pipeline for raw images (see :func:`test_pipeline_cfg`).

        As in ``DetInferencer``, images are loaded by MMDetection's
        ``InferencerLoader`` (files or arrays) and ``img_id`` is not packed.
        """
        pipeline = test_pipeline_cfg(cfg, 'mmdet.InferencerLoader')
        keys = pipeline[-1].get('meta_keys')
        if keys is not None:
            pipeline[-1]['meta_keys'] = tuple(k for k in keys if k != 'img_id')
        return Compose(pipeline)

    def text_tower(self) -> Tuple[str, str]:
        """``(open_clip model, weights)`` that encode ``texts``."""
        if self._text_tower is None:
            self._text_tower = detector_text_tower(self.model, self.text_model,
                                                   self.text_pretrained)
        return self._text_tower

    def set_texts(self, texts: TextsType) -> List[str]:
        """Make ``texts`` the vocabulary (encoded once per text tower).

        Args:
            texts: Class names: a list, or a comma-separated string.

        Returns:
            The vocabulary, in label order.

        Raises:
            TypeError: Not one list of names (e.g. one list per image).
            ValueError: Empty or repeated names, or no text tower can be
                derived (pass ``text_model`` / ``text_pretrained``).
        """
        if not isinstance(texts, str) and not all(
                isinstance(t, str) for t in texts):
            kinds = sorted({type(t).__name__ for t in texts})
            raise TypeError(
                'texts: one vocabulary for all images, a list of class '
                'names or a comma-separated string, got a '
                f'{type(texts).__name__} of {kinds}')
        names = tuple(parse_class_names(texts))
        key = (names, ) + self.text_tower()
        current = tuple(self.model.dataset_meta['classes'])
        if key != self._texts or current != names:
            path = self._encoded.get(key)
            if path is None:
                device = str(next(self.model.parameters()).device)
                path = resolve_vocabulary(
                    list(names), key[1], key[2], device, self.cache_dir)
                self._encoded[key] = path
            set_vocabulary(self.model, path)
            self._texts = key
            self._apply_palette(self.model)
            if self.visualizer is not None:
                self.visualizer.dataset_meta = self.model.dataset_meta
        return list(self.model.dataset_meta['classes'])

    def __call__(self,
                 inputs,
                 *args,
                 texts: Optional[TextsType] = None,
                 **kwargs) -> dict:
        """Detect the classes of ``texts`` (or the current vocabulary).

        Args:
            inputs: Image file(s), folder or BGR array(s), as for
                :class:`~mmdet.apis.DetInferencer`.
            *args: ``DetInferencer`` positional arguments (``batch_size``,
                ...).
            texts: The vocabulary of this and later calls: class names (a
                list or a comma-separated string); ``None`` keeps the
                current one.
            **kwargs: ``DetInferencer`` keyword arguments (``out_dir``,
                ``pred_score_thr``, ``return_vis``, ...).

        Returns:
            ``DetInferencer``'s ``dict(predictions, visualization)``;
            labels index ``self.model.dataset_meta['classes']``.
        """
        if texts is not None:
            self.set_texts(texts)
        return super().__call__(inputs, *args, **kwargs)
