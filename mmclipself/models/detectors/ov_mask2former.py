# Copyright (c) mmclipself contributors. All rights reserved.
from typing import List, Optional, Sequence, Tuple

import torch
import torch.nn.functional as F
from mmdet.evaluation.functional import INSTANCE_OFFSET
from mmdet.models.detectors import Mask2Former
from mmdet.structures import SampleList
from mmengine.config import ConfigDict
from torch import Tensor

from mmclipself.registry import MODELS
from mmclipself.utils.typing_utils import ConfigType, OptConfigType
from mmclipself.vocab import check_text_matches_image, seen_class_mask
from ..layers.dense_mask_pool import DenseMaskPool
from ..layers.score_fusion import fuse_void_clip_logits
from ..utils.frozen import FrozenPartsMixin

#: CLIP's normalisation x 255 (facts §1.2)
CLIP_MEAN = (122.7709383, 116.7460125, 104.09373615)
CLIP_STD = (68.5005327, 66.6321579, 70.3231630)
CLIP_MODES = ('fused', 'clip_only', 'none')
MASK_POOLING = ('binary', 'soft')


@MODELS.register_module()
class OVMask2Former(FrozenPartsMixin, Mask2Former):
    """Open-vocabulary Mask2Former with CLIP mask classification.

    MMDetection's :class:`Mask2Former` with an :class:`OVMask2FormerHead`
    (open-vocabulary class head, MMDetection's matching and losses) as the
    mask generator, on either backbone:

    - an MMDetection ResNet-50: the dense CLIP map then comes from a
      separate frozen ``clip_tower`` (a frozen part, not stored in
      checkpoints), run on the input re-normalised from the data
      preprocessor's mean/std to CLIP's (facts §1.2);
    - a :class:`CLIPViTPyramid` (F-ViT's frozen CLIP ViT pyramid, its
      input normalised with CLIP's mean/std by the data preprocessor): at
      test time ``forward_with_dense`` yields the pyramid and the dense map
      in one tower pass, reused for classification.

    **CLIP mask classification** (test time, ``clip_mode``): the last-layer
    mask logits (at the padded input size) are pooled from the dense map by
    :class:`DenseMaskPool`, all queries of all images in one op
    (``mask_pooling='binary'``: masks binarised at logit > 0 as FC-CLIP,
    each cell weighted by the fraction of it the mask covers, the CLIPSelf
    ``mask_pool`` on a binary mask; ``'soft'``: sigmoid weights), compared
    by cosine with the test vocabulary's text embeddings and scaled by
    ``clip_temperature`` (CLIP's logit scale, 100; facts §1.3). Then:

    - ``'fused'``: the ODISE / FC-CLIP geometric ensemble with the in-vocab
      logits, void from the in-vocab head (:func:`fuse_void_clip_logits`,
      facts §1.4; seen = test class among the training classes,
      :func:`~mmclipself.vocab.seen_class_mask`);
    - ``'clip_only'``: the CLIP score alone, i.e. the same rule with both
      exponents 1: ``softmax_K(clip) * (1 - p_void)`` and ``p_void`` from
      the in-vocab head (CLIPSelf Table 5 "CLIP-only", facts §3.8);
    - ``'none'``: the in-vocab logits (Mask2Former as trained; for
      validation during training, no CLIP pass).

    The fused scores are log-probabilities, so MMDetection's fusion head
    (:class:`OVMaskFormerFusionHead`, which re-applies a softmax) ranks and
    thresholds the fused distribution itself (facts §4). ``test_cfg``
    switches ``panoptic_on``, ``instance_on`` and ``semantic_on``;
    semantic results go to ``pred_sem_seg``.

    **Vocabularies** live in the head (:attr:`class_names` test,
    :attr:`train_class_names` training); :meth:`set_vocabulary` switches
    the test one, and the fusion head, ``num_classes`` and the seen mask
    follow.

    Args:
        backbone, neck, panoptic_head, panoptic_fusion_head, train_cfg,
            test_cfg, data_preprocessor, init_cfg: As :class:`Mask2Former`.
        clip_tower: Config of a CLIP tower (``EVA02CLIPViT`` /
            ``OpenAICLIPViT``) for the dense map; ``None`` uses the
            backbone's (``forward_with_dense``). Frozen, dense output.
        clip_mode: ``'fused'``, ``'clip_only'`` or ``'none'``.
        score_fusion: Exponents of the ensemble, ``dict(alpha, beta)``
            (CLIP weight of seen / unseen classes). Default ODISE's
            ``0.35 / 0.65``; ODISE label ``0.3 / 0.7``, FC-CLIP
            ``0.4 / 0.8`` (facts §1.4).
        clip_temperature: Scale of the CLIP cosine logits (CLIP's
            ``logit_scale.exp()``, 100 for the OpenAI and EVA02 CLIPs;
            FC-CLIP clamps it at 100).
        mask_pooling: ``'binary'`` or ``'soft'`` (see above).
        clip_scale: Resize factor of the input of a separate
            ``clip_tower`` (rounded to whole patches); 1 runs CLIP at the
            test resolution, as FC-CLIP.
        clip_mean, clip_std: CLIP's normalisation (x 255) for a separate
            ``clip_tower``.
    """

    def __init__(self,
                 backbone: ConfigType,
                 panoptic_head: ConfigType,
                 panoptic_fusion_head: ConfigType,
                 neck: OptConfigType = None,
                 clip_tower: OptConfigType = None,
                 clip_mode: str = 'fused',
                 score_fusion: Optional[dict] = None,
                 clip_temperature: float = 100.,
                 mask_pooling: str = 'binary',
                 clip_scale: float = 1.,
                 clip_mean: Sequence[float] = CLIP_MEAN,
                 clip_std: Sequence[float] = CLIP_STD,
                 train_cfg: OptConfigType = None,
                 test_cfg: OptConfigType = None,
                 data_preprocessor: OptConfigType = None,
                 init_cfg: OptConfigType = None) -> None:
        if clip_mode not in CLIP_MODES:
            raise ValueError(f'clip_mode must be one of {CLIP_MODES}, got '
                             f'{clip_mode!r}')
        if mask_pooling not in MASK_POOLING:
            raise ValueError(f'mask_pooling must be one of {MASK_POOLING}, '
                             f'got {mask_pooling!r}')
        fusion = dict(dict(alpha=0.35, beta=0.65), **(score_fusion or {}))
        if set(fusion) != {'alpha', 'beta'
                           } or not all(0. <= float(v) <= 1.
                                        for v in fusion.values()):
            raise ValueError('score_fusion must be dict(alpha, beta) with '
                             f'values in [0, 1], got {score_fusion}')
        super().__init__(
            backbone=backbone,
            neck=neck,
            panoptic_head=ConfigDict(panoptic_head),
            panoptic_fusion_head=ConfigDict(panoptic_fusion_head),
            train_cfg=train_cfg,
            test_cfg=test_cfg,
            data_preprocessor=data_preprocessor,
            init_cfg=init_cfg)
        head = self.panoptic_head
        for name, part, needs in (('panoptic_head', head, 'set_vocabulary'),
                                  ('panoptic_fusion_head',
                                   self.panoptic_fusion_head,
                                   'set_num_classes')):
            if not hasattr(part, needs):
                raise TypeError(
                    f'OVMask2Former.{name} must be open-vocabulary '
                    f'(mmclipself.OVMask2FormerHead / '
                    f'OVMaskFormerFusionHead), got {type(part).__name__}')
        self.clip_mode = clip_mode
        self.fusion_alpha = float(fusion['alpha'])
        self.fusion_beta = float(fusion['beta'])
        self.clip_temperature = float(clip_temperature)
        self.mask_pooling = mask_pooling
        self.clip_scale = float(clip_scale)
        self.mask_pool = DenseMaskPool(normalize_input=True, normalize=True)
        self.register_buffer(
            'clip_mean',
            torch.tensor(clip_mean).view(3, 1, 1),
            persistent=False)
        self.register_buffer(
            'clip_std', torch.tensor(clip_std).view(3, 1, 1), persistent=False)
        if clip_tower is not None:
            self.clip_tower = MODELS.build(
                dict(clip_tower, out_type='dense', train_blocks=[]))
            # only the test-time classification uses it: a checkpoint can
            # be tested with another tower of the same CLIP family (CLIPSelf
            # Table 5: same masks and head, original vs refined CLIP)
            self.register_frozen_part('clip_tower', swappable=True)
        else:
            self.clip_tower = None
            if not hasattr(self.backbone, 'forward_with_dense'):
                raise TypeError(
                    f'OVMask2Former needs a dense CLIP map: give a '
                    f'clip_tower, or a backbone with forward_with_dense '
                    f'(CLIPViTPyramid), not {type(self.backbone).__name__}')
        tower = self.dense_tower
        train = head._vocabularies['train']
        if tower.output_dim != train.dim:
            raise ValueError(
                f'the CLIP tower embeds into {tower.output_dim}-d but the '
                f'vocabulary {train.where} is {train.dim}-d: encode it with '
                'the same CLIP')
        check_text_matches_image(train, tower, 'panoptic_head.vocabulary')
        if head._vocabularies['test'] is not train:
            check_text_matches_image(head._vocabularies['test'], tower,
                                     'panoptic_head.test_vocabulary')
        self.register_buffer(
            'seen_mask', torch.zeros(0, dtype=torch.bool), persistent=False)
        self._sync_vocabulary()

    # ------------------------------------------------------------------
    # vocabulary
    # ------------------------------------------------------------------
    @property
    def dense_tower(self):
        """The CLIP tower whose dense map classifies the masks."""
        if self.clip_tower is not None:
            return self.clip_tower
        return self.backbone.clip

    @property
    def class_names(self) -> Tuple[str, ...]:
        """The prediction (test) vocabulary."""
        return self.panoptic_head.class_names

    @property
    def train_class_names(self) -> Tuple[str, ...]:
        """The training vocabulary (order of the training labels)."""
        return self.panoptic_head.train_class_names

    def _sync_vocabulary(self) -> None:
        head = self.panoptic_head
        things = head.test_num_things_classes
        if (self.test_cfg or {}).get('panoptic_on', True) and \
                len(head.class_names) >= INSTANCE_OFFSET:
            raise ValueError(
                f'{len(head.class_names)} classes: panoptic ids are class + '
                f'instance x {INSTANCE_OFFSET} (MMDetection), so at most '
                f'{INSTANCE_OFFSET - 1} classes with panoptic_on')
        self.num_classes = len(head.class_names)
        self.num_things_classes = things
        self.num_stuff_classes = self.num_classes - things
        self.panoptic_fusion_head.set_num_classes(things,
                                                  self.num_stuff_classes)
        vocab = head._vocabularies
        self.seen_mask = seen_class_mask(
            list(head.class_names),
            list(head.train_class_names),
            test_rule=vocab['test'].provenance.get('rule'),
            train_rule=vocab['train'].provenance.get('rule')).to(
                self.clip_mean.device)

    def set_vocabulary(self,
                       vocabulary,
                       num_things_classes: Optional[int] = None) -> None:
        """Predict over another vocabulary (file or ``Vocabulary``).

        Args:
            vocabulary: Text embeddings of the same CLIP.
            num_things_classes: Its thing classes, listed first (``None``:
                all).
        """
        self.panoptic_head.set_vocabulary(vocabulary, num_things_classes)
        check_text_matches_image(self.panoptic_head._vocabularies['test'],
                                 self.dense_tower, 'set_vocabulary')
        self._sync_vocabulary()

    # ------------------------------------------------------------------
    # CLIP mask classification
    # ------------------------------------------------------------------
    def _extract(self, batch_inputs: Tensor,
                 with_dense: bool) -> Tuple[Tuple[Tensor], Optional[Tensor]]:
        """Mask-generator features and, if asked, the dense CLIP map."""
        if with_dense and self.clip_tower is None:
            feats, dense = self.backbone.forward_with_dense(batch_inputs)
            if self.with_neck:
                feats = self.neck(feats)
            return feats, dense
        feats = self.extract_feat(batch_inputs)
        return feats, self.clip_dense(batch_inputs) if with_dense else None

    @torch.no_grad()
    def clip_dense(self, batch_inputs: Tensor) -> Tensor:
        """Dense map of the separate ``clip_tower`` on the batch input.

        The input is re-normalised from the data preprocessor's mean/std
        to CLIP's and resized (bilinear) by ``clip_scale`` to whole patches;
        the map covers the whole padded input.
        """
        pre = self.data_preprocessor
        x = batch_inputs.float()
        if getattr(pre, '_enable_normalize', False):
            x = x * pre.std + pre.mean
        x = (x - self.clip_mean) / self.clip_std
        p = self.clip_tower.patch_size
        size = tuple(
            max(1, round(s * self.clip_scale / p)) * p for s in x.shape[-2:])
        if size != tuple(x.shape[-2:]):
            x = F.interpolate(x, size, mode='bilinear', align_corners=False)
        return self.clip_tower.forward_dense(x)

    def clip_logits(
            self,
            dense: Tensor,
            mask_pred: Tensor,
            img_shapes: Optional[Sequence[Tuple[int, int]]] = None) -> Tensor:
        """CLIP logits ``(B, Q, K)`` of every mask over the test vocabulary.

        Args:
            dense: ``(B, D, h, w)`` dense CLIP map of the padded input.
            mask_pred: ``(B, Q, H, W)`` mask logits over the padded input.
            img_shapes: Each image's ``(h, w)`` inside the padded input;
                the masks are cut to it (the padding's CLIP features and
                mask logits never enter an embedding).
        """
        with torch.no_grad():
            masks = (mask_pred > 0).float() if self.mask_pooling == \
                'binary' else mask_pred.sigmoid()
            if img_shapes is not None:  # nothing of a mask in the padding
                for b, (h, w) in enumerate(img_shapes):
                    masks[b, :, h:] = 0
                    masks[b, :, :, w:] = 0
            pooled = self.mask_pool(dense, masks)
        text = self.panoptic_head.text_embeddings.to(pooled)
        return self.clip_temperature * pooled @ text.t()

    def fuse_scores(self, in_logits: Tensor, clip_logits: Tensor) -> Tensor:
        """Class log-probabilities ``(..., K + 1)`` of ``clip_mode``.

        Args:
            in_logits: ``(..., K + 1)`` in-vocab logits, void last.
            clip_logits: ``(..., K)`` CLIP logits.

        Returns:
            Log-probabilities summing (after ``exp``) to 1 over ``K + 1``;
            ``in_logits`` unchanged for ``'none'``.
        """
        if self.clip_mode == 'none':
            return in_logits
        alpha, beta = (self.fusion_alpha, self.fusion_beta) \
            if self.clip_mode == 'fused' else (1., 1.)
        return fuse_void_clip_logits(
            in_logits, clip_logits, self.seen_mask, alpha, beta, log=True)

    # ------------------------------------------------------------------
    # predict
    # ------------------------------------------------------------------
    def predict(self,
                batch_inputs: Tensor,
                batch_data_samples: SampleList,
                rescale: bool = True) -> SampleList:
        """Panoptic / instance / semantic results (``test_cfg`` switches).

        One backbone pass; with the CLIP ViT pyramid it also yields the
        dense map (one tower pass per batch).
        """
        with_clip = self.clip_mode != 'none'
        feats, dense = self._extract(batch_inputs, with_clip)
        mask_cls, mask_pred = self.panoptic_head.predict(
            feats, batch_data_samples)
        if with_clip:
            shapes = [s.metainfo['img_shape'][:2] for s in batch_data_samples]
            mask_cls = self.fuse_scores(
                mask_cls, self.clip_logits(dense, mask_pred, shapes))
        results_list = self.panoptic_fusion_head.predict(
            mask_cls, mask_pred, batch_data_samples, rescale=rescale)
        return self.add_pred_to_datasample(batch_data_samples, results_list)

    def add_pred_to_datasample(self, data_samples: SampleList,
                               results_list: List[dict]) -> SampleList:
        """MMDetection's, plus ``sem_results`` as ``pred_sem_seg``."""
        rest = []
        for sample, result in zip(data_samples, results_list):
            result = dict(result)
            sem = result.pop('sem_results', None)
            if sem is not None:
                sample.pred_sem_seg = sem
            rest.append(result)
        return super().add_pred_to_datasample(data_samples, rest)
