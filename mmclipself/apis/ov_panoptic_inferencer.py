# Copyright (c) mmclipself contributors. All rights reserved.
"""MMDetection's ``DetInferencer`` for open-vocabulary panoptic models."""
import os.path as osp
import warnings
from pathlib import Path
from typing import Dict, List, Optional, Sequence, Tuple, Union

import mmcv
import mmengine
import numpy as np
import torch.nn as nn
from mmdet.apis import DetInferencer
from mmdet.structures import DetDataSample
from mmengine.config import Config
from mmengine.dataset import Compose

from mmclipself.registry import INFERENCERS
from .model_loading import build_and_load
from .ov_detector import _is_remote, _load_config, test_pipeline_cfg
from .ov_seg_inferencer import OVSegInferencer, class_color
from .text_tower import detector_text_tower
from .vocabulary import parse_class_names, resolve_vocabulary

TextsType = Union[str, Sequence[str]]
#: MMDetection's panoptic id: ``label + instance * INSTANCE_OFFSET``.
INSTANCE_OFFSET = 1000
#: Label loaders of the test pipelines (left out for raw images).
ANNOTATION_LOADERS = ('LoadAnnotations', 'LoadPanopticAnnotations')


def panoptic_segments(pan_seg: np.ndarray, classes: Sequence[str],
                      num_things: int) -> List[dict]:
    """The segments of an MMDetection panoptic map, one dict each.

    Args:
        pan_seg: ``(H, W)`` ids ``label + instance * 1000``; ``label ==
            len(classes)`` is void (unassigned pixels).
        classes: The vocabulary (things first).
        num_things: Its thing classes.

    Returns:
        ``dict(id, label, name, isthing, area)`` per segment, by id.
    """
    ids, areas = np.unique(pan_seg, return_counts=True)
    segments = []
    for seg_id, area in zip(ids.tolist(), areas.tolist()):
        label = seg_id % INSTANCE_OFFSET
        if label >= len(classes):
            continue  # void
        segments.append(
            dict(
                id=seg_id,
                label=label,
                name=classes[label],
                isthing=label < num_things,
                area=area))
    return segments


@INFERENCERS.register_module()
class OVPanopticInferencer(DetInferencer):
    """Open-vocabulary panoptic segmentation on any class names, per call.

    MMDetection's :class:`~mmdet.apis.DetInferencer` (same call, same
    outputs, drawn with MMDetection's ``DetLocalVisualizer``) for
    :class:`~mmclipself.models.OVMask2Former` (CLIP mask classification),
    whose ``texts`` (thing classes) and ``stuff_texts`` (stuff classes) are
    the vocabulary of the call:

    .. code-block:: python

        from mmclipself.apis import OVPanopticInferencer

        inferencer = OVPanopticInferencer(
            'configs/maskcls/CONFIG.py', 'maskcls.pth')
        out = inferencer('photo.jpg', texts=['cat', 'person'],
                         stuff_texts=['sofa, couch', 'wall', 'floor'],
                         out_dir='outputs')
        pred = out['predictions'][0]
        pred['segments_info']  # id, label, name, isthing, area
        # labels index ['cat', 'person', 'sofa, couch', 'wall', 'floor']

    **Vocabulary.** ``texts`` are the thing classes (one segment per
    object, each with its instance id) and ``stuff_texts`` the stuff
    classes (one segment per class); the vocabulary is the things, then the
    stuff (MMDetection's panoptic order), so labels ``< len(texts)`` are
    things. Either may be omitted (all things, or all stuff). A list item
    may hold comma-separated synonyms (``'sofa, couch'``); a string holds
    classes separated by periods if it has one (``'sofa, couch. wall'``),
    else by commas (:meth:`OVSegInferencer.parse_texts`). The vocabulary
    stays for later calls until ``texts`` / ``stuff_texts`` are given again
    (each such call sets the whole vocabulary).

    The classes are encoded (63 ViLD prompts, synonyms averaged; the
    ``'background'`` entry the file holds is ignored: the void is learned)
    by the text tower of the CLIP whose dense map classifies the masks,
    derived from that image tower
    (:func:`~mmclipself.apis.text_tower.detector_text_tower`), once per
    vocabulary (kept in memory and cached on disk), and swapped in with
    ``model.set_vocabulary``: no weight depends on the test vocabulary. A
    class is *seen* when a synonym is among the training classes (the
    fusion's ``alpha``), else *unseen* (``beta``).

    ``model.dataset_meta`` follows (``classes``, ``thing_classes``,
    ``stuff_classes``, ``palette``: one colour per class name, as
    :class:`~mmclipself.apis.OVSegInferencer`), so the visualiser labels
    the segments. Results: the config's ``test_cfg`` switches panoptic,
    instance and semantic outputs; the visualiser draws each present
    (instances above ``pred_score_thr``, the semantic map, the panoptic
    segments, in that order on one image).

    The checkpoint is loaded strictly (every tensor, the right shapes, or an
    error naming the keys) after the frozen CLIP tower (never stored in
    checkpoints) is read from its ``pretrained`` source, as
    :func:`~mmclipself.apis.init_ov_detector`. The training vocabulary
    file of the config must exist (it tells seen from unseen classes).

    Args:
        model: Config file or :class:`Config` of an ``OVMask2Former``.
        weights: Checkpoint; ``None`` initialises the model as for training
            (the CLIP tower from its ``pretrained``, the rest random).
        device: Device; default: CUDA if available.
        scope: Default scope; default: the config's ``default_scope``.
        show_progress: Show a progress bar.
        text_model: open_clip model of the text tower; default: derived
            from the image tower's ``arch``.
        text_pretrained: Its weights (file or ``open_clip://MODEL/TAG``);
            default: the image tower's ``pretrained`` source when it holds
            a text tower (a CLIPSelf-refined image-only file does not:
            give the weights of the CLIP it was refined from).
        cache_dir: Cache of encoded vocabularies.
        cfg_options: Overrides merged into the config.
    """

    def __init__(self,
                 model: Union[str, Path, Config],
                 weights: Optional[str] = None,
                 device: Optional[str] = None,
                 scope: Optional[str] = None,
                 show_progress: bool = True,
                 text_model: Optional[str] = None,
                 text_pretrained: Optional[str] = None,
                 cache_dir: Optional[str] = None,
                 cfg_options: Optional[dict] = None) -> None:
        cfg = _load_config(model)
        if cfg_options:
            cfg.merge_from_dict(cfg_options)
        if weights is not None and not _is_remote(weights) \
                and not osp.isfile(weights):
            raise FileNotFoundError(f'checkpoint not found: {weights}')
        self.text_model = text_model
        self.text_pretrained = text_pretrained
        self.cache_dir = cache_dir
        self._text_tower: Optional[Tuple[str, str]] = None
        self._encoded: Dict[tuple, str] = {}
        super().__init__(
            model=cfg,
            weights=weights,
            device=device,
            scope=scope or cfg.get('default_scope') or 'mmdet',
            palette='none',
            show_progress=show_progress)

    def _init_model(self,
                    cfg: Config,
                    weights: Optional[str],
                    device: str = 'cpu') -> nn.Module:
        """Build the model and load ``weights`` strictly."""
        if weights is None:
            warnings.warn('no checkpoint: the model is initialised as for '
                          'training (random mask generator)')
        model = build_and_load(cfg, weights, check=_check_detector)
        model.cfg = cfg
        model.to(device)
        model.eval()
        self._set_dataset_meta(model)
        return model

    @staticmethod
    def _set_dataset_meta(model: nn.Module) -> None:
        names = tuple(model.class_names)
        things = int(model.num_things_classes)
        model.dataset_meta = dict(
            classes=names,
            thing_classes=names[:things],
            stuff_classes=names[things:],
            palette=[class_color(n) for n in names])

    def _init_pipeline(self, cfg: Config) -> Compose:
        """The config's test pipeline for raw images.

        Label loaders (:data:`ANNOTATION_LOADERS`) are dropped, images are
        loaded by MMDetection's ``InferencerLoader`` (files or arrays) and
        ``img_id`` is not packed, as in ``DetInferencer``.
        """
        pipeline = [
            t for t in test_pipeline_cfg(cfg, 'mmdet.InferencerLoader')
            if str(t['type']).split('.')[-1] not in ANNOTATION_LOADERS
        ]
        keys = pipeline[-1].get('meta_keys')
        if keys is not None:
            pipeline[-1]['meta_keys'] = tuple(k for k in keys if k != 'img_id')
        return Compose(pipeline)

    def text_tower(self) -> Tuple[str, str]:
        """``(open_clip model, weights)`` that encode the classes."""
        if self._text_tower is None:
            self._text_tower = detector_text_tower(self.model.dense_tower,
                                                   self.text_model,
                                                   self.text_pretrained)
        return self._text_tower

    def set_texts(self,
                  texts: Optional[TextsType] = None,
                  stuff_texts: Optional[TextsType] = None) -> List[str]:
        """Make ``texts`` (things) + ``stuff_texts`` the vocabulary.

        Args:
            texts: Thing classes (see the class docstring), or ``None``.
            stuff_texts: Stuff classes, or ``None``.

        Returns:
            The vocabulary, in label order (things first).

        Raises:
            TypeError: Not one list of names (e.g. one list per image).
            ValueError: No class, an empty list, repeated names (also
                between things and stuff), the reserved ``'background'``,
                or no text tower can be derived (pass ``text_model`` /
                ``text_pretrained``); the vocabulary is then unchanged.
        """
        if texts is None and stuff_texts is None:
            raise ValueError('give thing classes (texts) and/or stuff '
                             'classes (stuff_texts)')
        things = () if texts is None else OVSegInferencer.parse_texts(texts)
        stuff = (
        ) if stuff_texts is None else OVSegInferencer.parse_texts(stuff_texts)
        names = tuple(parse_class_names(list(things + stuff)))
        meta = self.model.dataset_meta
        if names != tuple(meta['classes']) or \
                len(things) != len(meta['thing_classes']):
            key = (names, ) + self.text_tower()
            path = self._encoded.get(key)
            if path is None:
                device = str(next(self.model.parameters()).device)
                path = resolve_vocabulary(
                    list(names), key[1], key[2], device, self.cache_dir)
                self._encoded[key] = path
            self.model.set_vocabulary(path, num_things_classes=len(things))
            self._set_dataset_meta(self.model)
            if self.visualizer is not None:
                self.visualizer.dataset_meta = self.model.dataset_meta
        return list(self.model.dataset_meta['classes'])

    def __call__(self,
                 inputs,
                 *args,
                 texts: Optional[TextsType] = None,
                 stuff_texts: Optional[TextsType] = None,
                 **kwargs) -> dict:
        """Segment the classes of ``texts`` / ``stuff_texts``.

        Args:
            inputs: Image file(s), folder or BGR array(s), as for
                :class:`~mmdet.apis.DetInferencer`.
            *args: ``DetInferencer`` positional arguments (``batch_size``,
                ...).
            texts: Thing classes of this and later calls; ``None`` (with
                ``stuff_texts`` ``None``) keeps the current vocabulary.
            stuff_texts: Stuff classes of this and later calls.
            **kwargs: ``DetInferencer`` keyword arguments (``out_dir``,
                ``return_vis``, ``return_datasamples``, ``pred_score_thr``
                for the drawn instances, ...).

        Returns:
            ``DetInferencer``'s ``dict(predictions, visualization)``; each
            prediction dict holds, as switched on in ``test_cfg``:
            ``panoptic_seg`` (MMDetection's RGB-encoded ids, void 0) or
            ``panoptic_seg_path`` and ``segments_info``
            (:func:`panoptic_segments`); ``labels``, ``scores``,
            ``bboxes``, ``masks`` (instances); ``sem_seg`` (an ``(H, W)``
            label map) or ``sem_seg_path`` (16-bit PNG). Labels index
            ``self.model.dataset_meta['classes']``.
        """
        if texts is not None or stuff_texts is not None:
            self.set_texts(texts, stuff_texts)
        return super().__call__(inputs, *args, **kwargs)

    def visualize(self, inputs: list, preds: List[DetDataSample],
                  **kwargs) -> Optional[List[np.ndarray]]:
        """``DetInferencer``'s; a panoptic map with no segment is skipped.

        MMDetection's ``DetLocalVisualizer`` fails on a panoptic map that is
        all void (nothing recognised); the image is then drawn without it.
        """
        drawable = []
        for pred in preds:
            if 'pred_panoptic_seg' in pred:
                pan = pred.pred_panoptic_seg.sem_seg
                void = len(self.model.dataset_meta['classes'])
                if bool(((pan % INSTANCE_OFFSET) == void).all()):
                    pred = pred.clone()
                    del pred.pred_panoptic_seg
            drawable.append(pred)
        return super().visualize(inputs, drawable, **kwargs)

    def pred2dict(self,
                  data_sample: DetDataSample,
                  pred_out_dir: str = '') -> Dict:
        """``DetInferencer``'s, plus ``segments_info`` and the semantic map.

        With ``pred_out_dir`` the semantic map is saved next to the
        panoptic one (``preds/<name>_sem_seg.png``, 16-bit) and the json is
        written again with the added keys.
        """
        meta = self.model.dataset_meta
        extra = {}
        # before DetInferencer's, which writes VOID into the panoptic map
        if 'pred_panoptic_seg' in data_sample:
            pan = data_sample.pred_panoptic_seg.sem_seg.cpu().numpy()[0]
            extra['segments_info'] = panoptic_segments(
                pan, meta['classes'], len(meta['thing_classes']))
        if 'pred_sem_seg' in data_sample:
            sem = data_sample.pred_sem_seg.sem_seg.cpu().numpy()[0]
            extra['sem_seg'] = sem.copy()
        result = super().pred2dict(data_sample, pred_out_dir)
        if not pred_out_dir:
            result.update(extra)
            return result
        if 'img_path' in data_sample:
            stem = osp.splitext(osp.basename(data_sample.img_path))[0]
        else:  # DetInferencer has just counted this prediction
            stem = str(self.num_predicted_imgs - 1)
        preds = osp.join(pred_out_dir, 'preds')
        if 'sem_seg' in extra:
            path = osp.join(preds, f'{stem}_sem_seg.png')
            mmcv.imwrite(extra.pop('sem_seg').astype(np.uint16), path)
            extra['sem_seg_path'] = path
        result.update(extra)
        mmengine.dump(result, osp.join(preds, f'{stem}.json'))
        return result


def _check_detector(model: nn.Module) -> None:
    if not (hasattr(model, 'set_vocabulary')
            and hasattr(model, 'dense_tower')):
        raise TypeError(
            'OVPanopticInferencer needs an open-vocabulary Mask2Former '
            '(mmclipself.OVMask2Former); the config builds '
            f'{type(model).__name__}')
