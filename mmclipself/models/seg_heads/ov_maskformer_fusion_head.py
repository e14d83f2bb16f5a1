# Copyright (c) mmclipself contributors. All rights reserved.
from typing import List, Optional

import torch
import torch.nn.functional as F
from mmdet.models.seg_heads import MaskFormerFusionHead
from mmdet.structures import SampleList
from mmengine.config import ConfigDict
from mmengine.structures import PixelData
from torch import Tensor

from mmclipself.registry import MODELS


@MODELS.register_module()
class OVMaskFormerFusionHead(MaskFormerFusionHead):
    """MMDetection's MaskFormer fusion head with semantic outputs.

    Panoptic and instance post-processing are MMDetection's, unchanged:
    both re-apply a softmax to the class scores, so an open-vocabulary
    detector feeds log-probabilities (e.g. the fused ``[p (1 - p_void),
    p_void]`` of :func:`fuse_void_clip_logits` with ``log=True``), whose
    softmax is the fused distribution itself (facts §4).

    MMDetection 3.3 asserts ``semantic_on`` is False and its
    ``semantic_postprocess`` raises ``NotImplementedError`` (mmdet #11997);
    here :meth:`semantic_postprocess` follows MaskFormer's semantic
    inference: ``argmax_c sum_q softmax(cls)[q, c] * sigmoid(mask)[q]``,
    void dropped. ``test_cfg`` switches ``panoptic_on`` (default True),
    ``instance_on`` and ``semantic_on`` (default False).

    The class counts follow the detector's test vocabulary
    (:meth:`set_num_classes`). ``object_mask_thr`` defaults to 0.0 (ODISE /
    FC-CLIP, segmentation facts §3.6–3.7) instead of MMDetection's 0.8,
    which would drop most masks of a fused distribution.

    Args:
        test_cfg: As MMDetection's; ``object_mask_thr`` defaults to 0.0.
        **kwargs: :class:`MaskFormerFusionHead` arguments.
    """

    def __init__(self, test_cfg: Optional[dict] = None, **kwargs) -> None:
        test_cfg = ConfigDict(
            dict(dict(object_mask_thr=0.0), **(test_cfg or {})))
        super().__init__(test_cfg=test_cfg, **kwargs)

    def set_num_classes(self, num_things_classes: int,
                        num_stuff_classes: int) -> None:
        """Post-process over another vocabulary (things first)."""
        self.num_things_classes = num_things_classes
        self.num_stuff_classes = num_stuff_classes
        self.num_classes = num_things_classes + num_stuff_classes

    def semantic_postprocess(self, mask_cls: Tensor,
                             mask_pred: Tensor) -> PixelData:
        """Semantic segmentation of one image (MaskFormer's inference).

        Args:
            mask_cls: ``(Q, K + 1)`` class logits (or log-probabilities),
                void last.
            mask_pred: ``(Q, h, w)`` mask logits.

        Returns:
            ``PixelData(sem_seg=(1, h, w) int64)`` with class ids in
            ``[0, K)``.
        """
        probs = F.softmax(mask_cls.float(), dim=-1)[:, :-1]
        seg = torch.einsum('qc,qhw->chw', probs, mask_pred.float().sigmoid())
        return PixelData(sem_seg=seg.argmax(0)[None])

    def predict(self,
                mask_cls_results: Tensor,
                mask_pred_results: Tensor,
                batch_data_samples: SampleList,
                rescale: bool = False,
                **kwargs) -> List[dict]:
        """As :meth:`MaskFormerFusionHead.predict`, plus ``sem_results``.

        Returns:
            Per image a dict with ``pan_results``, ``ins_results`` and
            ``sem_results`` as switched on in ``test_cfg``.
        """
        on = {
            key: self.test_cfg.get(key, default)
            for key, default in (('panoptic_on', True), ('instance_on', False),
                                 ('semantic_on', False))
        }
        results = []
        for mask_cls, mask_pred, sample in zip(mask_cls_results,
                                               mask_pred_results,
                                               batch_data_samples):
            meta = sample.metainfo
            h, w = meta['img_shape'][:2]
            mask_pred = mask_pred[:, :h, :w]  # remove padding
            if rescale:
                mask_pred = F.interpolate(
                    mask_pred[:, None],
                    size=meta['ori_shape'][:2],
                    mode='bilinear',
                    align_corners=False)[:, 0]
            result = dict()
            if on['panoptic_on']:
                result['pan_results'] = self.panoptic_postprocess(
                    mask_cls, mask_pred)
            if on['instance_on']:
                result['ins_results'] = self.instance_postprocess(
                    mask_cls, mask_pred)
            if on['semantic_on']:
                result['sem_results'] = self.semantic_postprocess(
                    mask_cls, mask_pred)
            results.append(result)
        return results
