# Copyright (c) mmclipself contributors. All rights reserved.
from typing import List, Optional

import torch
import torch.nn as nn
from mmdet.models.roi_heads.bbox_heads import ConvFCBBoxHead
from torch import Tensor

from mmclipself.registry import MODELS
from mmclipself.utils.typing_utils import ConfigType
from mmclipself.vocab import BACKGROUND, BaseClassSpec, resolve_base_classes
from ...layers.text_embedding_classifier import load_text_embeddings


def _vocabulary_size(embeddings: str) -> int:
    names, _ = load_text_embeddings(embeddings)
    return len([n for n in names if n != BACKGROUND])


@MODELS.register_module()
class OVConvFCBBoxHead(ConvFCBBoxHead):
    """Open-vocabulary ConvFC box head of F-ViT (paper A.3).

    An MMDetection :class:`ConvFCBBoxHead` whose classifier
    (``cls_predictor_cfg``) is a :class:`TextEmbeddingClassifier`. Follows
    the CLIPSelf release: novel classes (not in ``base_classes``) get
    ``-inf`` logits in the training loss, so they are left out of the softmax
    and never receive gradients, and background samples are weighted by
    ``bg_weight`` (0.6 on OV-COCO, 0.9 on OV-LVIS).

    Build it in MMDetection's scope, as the F-ViT configs do
    (``_scope_='mmdet'``, this head as ``'mmclipself.OVConvFCBBoxHead'``):
    its nested coder, losses and ``Linear`` layers are MMDetection types.

    Args:
        num_classes: Vocabulary size; ``None`` reads it from the classifier's
            embedding file, so that swapping vocabularies only means
            changing that file.
        cls_predictor_cfg: The text classifier config; its ``embeddings``
            file is the vocabulary.
        base_classes: The trained classes, see
            :func:`~mmclipself.vocab.resolve_base_classes`
            (``None``: all).
        bg_weight: Loss weight of background samples (> 0).
        check_labels: Check in every :meth:`loss` call that no sampled
            target has a zero-weight (novel) class, which would make the
            loss NaN. Off by default: it syncs host and device each step,
            and :class:`~mmclipself.engine.hooks.VocabularyCheckHook`
            checks the whole training set once before training; turn it on
            when targets are made during training (e.g. pseudo labels).
        **kwargs: Everything :class:`ConvFCBBoxHead` takes.
    """

    def __init__(self,
                 cls_predictor_cfg: ConfigType,
                 num_classes: Optional[int] = None,
                 base_classes: BaseClassSpec = None,
                 bg_weight: float = 1.0,
                 check_labels: bool = False,
                 **kwargs) -> None:
        if not bg_weight > 0:
            raise ValueError(
                f'bg_weight must be > 0 (the loss weight of background '
                f'samples), got {bg_weight}: with 0 the background logit is '
                'masked to -inf and the loss is NaN')
        if 'embeddings' not in cls_predictor_cfg:
            raise ValueError('cls_predictor_cfg needs an `embeddings` file '
                             '(the vocabulary)')
        if num_classes is None:
            num_classes = _vocabulary_size(cls_predictor_cfg['embeddings'])
        if not kwargs.pop('with_cls', True):
            raise ValueError('OVConvFCBBoxHead always classifies')
        if kwargs.get('num_cls_convs', 0) or kwargs.get('num_cls_fcs', 0):
            raise ValueError(
                'OVConvFCBBoxHead feeds the last shared fc (ReLU kept, as in '
                'the release) to the text classifier: num_cls_convs and '
                'num_cls_fcs must be 0')
        # MMDetection's heads build `fc_cls` twice (BBoxHead on the RoI
        # features, then ConvFCBBoxHead on the last fc); the text classifier
        # is built once, here, on the last fc
        super().__init__(
            num_classes=num_classes,
            cls_predictor_cfg=cls_predictor_cfg,
            with_cls=False,
            **kwargs)
        if self.custom_cls_channels:
            raise ValueError('OVConvFCBBoxHead needs a softmax loss_cls with '
                             'num_classes + 1 outputs')
        self.with_cls = True
        self.check_labels = check_labels
        self.fc_cls = self._build_classifier(cls_predictor_cfg)
        # derived from the config, never stored: vocabularies stay swappable
        self.register_buffer(
            'class_weight',
            self._class_weight(base_classes, bg_weight),
            persistent=False)

    def _build_classifier(self, cfg: ConfigType) -> nn.Module:
        return MODELS.build(
            dict(
                cfg,
                in_features=self.cls_last_dim,
                out_features=self.num_classes + 1))

    def _class_weight(self, base_classes: BaseClassSpec,
                      bg_weight: float) -> Tensor:
        base = resolve_base_classes(base_classes, self.fc_cls.class_names)
        weight = torch.tensor(base + [True], dtype=torch.float32)
        weight[-1] = bg_weight
        return weight

    def set_vocabulary(self,
                       embeddings: str,
                       base_classes: BaseClassSpec = None) -> List[str]:
        """Classify over another vocabulary file, in place.

        The classifier is rebuilt from ``cls_predictor_cfg`` on the new
        file and keeps its learned state (temperature, learned background);
        the background weight is kept. The head is unchanged if the file is
        rejected (missing, or of another embedding width).

        Args:
            embeddings: Vocabulary file of
                ``tools/generate_text_embeddings.py``.
            base_classes: The new base classes (``None``: all, the
                release's transfer setting).

        Returns:
            The new class names, background excluded.
        """
        old = self.fc_cls
        cfg = dict(self.cls_predictor_cfg, embeddings=embeddings)
        num_classes = self.num_classes
        self.num_classes = _vocabulary_size(embeddings)
        try:
            new = self._build_classifier(cfg)
        except Exception:
            self.num_classes = num_classes
            raise
        new.load_state_dict(old.state_dict(), strict=True)
        self.fc_cls = new.to(old.temperature.device).train(old.training)
        self.cls_predictor_cfg = cfg
        self.class_weight = self._class_weight(
            base_classes,
            float(self.class_weight[-1])).to(self.class_weight.device)
        return list(self.class_names)

    @property
    def class_names(self):
        """The vocabulary, background excluded."""
        return self.fc_cls.class_names

    @property
    def base_mask(self) -> Tensor:
        """``(C + 1,)`` bool: base classes and background."""
        mask = self.class_weight > 0
        mask[-1] = True
        return mask

    def _check_labels(self, labels: Tensor) -> None:
        """Raise if a target has a zero-weight (novel) class."""
        novel = self.class_weight[labels] == 0
        if bool(novel.any()):  # a host-device sync
            label = int(labels[novel][0])
            raise ValueError(
                f'{int(novel.sum())} sampled RoIs have target class '
                f'{self.class_names[label]!r} (label {label}), a class of '
                'loss weight 0 (novel): its -inf logit makes the loss NaN; '
                'train on base-class annotations only')

    def loss(self,
             cls_score: Tensor,
             bbox_pred: Tensor,
             rois: Tensor,
             labels: Tensor,
             label_weights: Tensor,
             bbox_targets: Tensor,
             bbox_weights: Tensor,
             reduction_override: Optional[str] = None) -> dict:
        """MMDetection's box loss with novel classes masked out.

        Zero-weight (novel) classes get ``-inf`` logits and each sample's
        weight is multiplied by its target's class weight (background:
        ``bg_weight``), the same as a class-weighted cross-entropy.
        """
        if cls_score is not None:
            if self.check_labels:
                self._check_labels(labels)
            cls_score = cls_score.masked_fill(self.class_weight == 0,
                                              float('-inf'))
            label_weights = label_weights * self.class_weight[labels]
        return super().loss(
            cls_score,
            bbox_pred,
            rois,
            labels,
            label_weights,
            bbox_targets,
            bbox_weights,
            reduction_override=reduction_override)
