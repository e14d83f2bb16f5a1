# Copyright (c) mmclipself contributors. All rights reserved.
from typing import List, Optional, Tuple

from mmdet.models.layers import multiclass_nms
from mmdet.models.roi_heads import StandardRoIHead
from mmdet.models.utils import empty_instances
from mmdet.structures import SampleList
from mmdet.structures.bbox import bbox2roi
from mmdet.utils import InstanceList
from mmengine.structures import InstanceData
from torch import Tensor

from mmclipself.registry import MODELS
from ..layers import DenseRoIPool, fuse_clip_scores


@MODELS.register_module()
class FViTRoIHead(StandardRoIHead):
    """F-ViT RoI head: fuses box scores with the dense CLIP map at test time.

    Training is MMDetection's :class:`StandardRoIHead` with an
    :class:`OVConvFCBBoxHead`. At test time each proposal is also classified
    by CLIP: RoIAlign 1x1 on the dense CLIP map (:class:`DenseRoIPool`, the
    release's convention: ``aligned=True``, stride = the tower's patch size,
    here derived from the padded input and map shapes), L2-normalised,
    compared with the same text embeddings at temperature
    ``clip_fusion['temperature']``.
    Both softmax scores are fused geometrically (:func:`fuse_clip_scores`)
    before MMDetection's multi-class NMS. Follows F-VLM and the CLIPSelf
    release; its values per setting (reference facts §1):

    ========== =========== ===== ====
    setting    temperature alpha beta
    ========== =========== ===== ====
    OV-COCO    75          0.1   0.8
    OV-LVIS B  50          0.1   0.6
    OV-LVIS L  50          0.1   0.4
    ========== =========== ===== ====

    Args:
        clip_fusion: ``dict(temperature, alpha, beta)``, or ``None`` to use
            the detector scores alone.
        **kwargs: Everything :class:`StandardRoIHead` takes.
    """

    def __init__(self, *args, clip_fusion: Optional[dict] = None, **kwargs):
        super().__init__(*args, **kwargs)
        if clip_fusion is not None:
            unknown = set(clip_fusion) - {'temperature', 'alpha', 'beta'}
            if unknown:
                raise ValueError(f'unknown clip_fusion keys {sorted(unknown)}'
                                 '; expected temperature, alpha, beta')
            clip_fusion = dict(
                dict(temperature=50., alpha=0.1, beta=0.6), **clip_fusion)
            # no patch size here: derived from input shape / map shape
            self.clip_roi_pool = DenseRoIPool(normalize=True)
        self.clip_fusion = clip_fusion

    @property
    def with_clip_fusion(self) -> bool:
        """Whether test scores are fused with the dense CLIP map."""
        return self.clip_fusion is not None

    def clip_probs(self, clip_dense: Tensor, rois: Tensor,
                   input_shape: Tuple[int, int]) -> Tensor:
        """CLIP softmax scores ``(K, C + 1)`` of ``rois`` from the dense map.

        Args:
            clip_dense: ``(B, D, h, w)`` dense CLIP map of the padded batch.
            rois: ``(K, 5)`` boxes ``(batch index, x1, y1, x2, y2)`` in
                input pixels.
            input_shape: ``(H, W)`` of the padded batch (a multiple of the
                tower's patch size, which it gives as ``H / h``).
        """
        feats = self.clip_roi_pool(clip_dense, rois, input_shape)
        text = self.bbox_head.fc_cls.embeddings().float()
        logits = self.clip_fusion['temperature'] * feats @ text.t()
        return logits.softmax(dim=-1)

    def predict_bbox(self,
                     x: Tuple[Tensor],
                     batch_img_metas: List[dict],
                     rpn_results_list: InstanceList,
                     rcnn_test_cfg,
                     rescale: bool = False,
                     clip_dense: Optional[Tensor] = None) -> InstanceList:
        """Boxes of each image; with ``clip_dense``, CLIP-fused scores."""
        if clip_dense is None or not self.with_clip_fusion:
            return super().predict_bbox(x, batch_img_metas, rpn_results_list,
                                        rcnn_test_cfg, rescale)
        proposals = [res.bboxes for res in rpn_results_list]
        rois = bbox2roi(proposals)
        if rois.shape[0] == 0:
            return empty_instances(
                batch_img_metas,
                rois.device,
                task_type='bbox',
                box_type=self.bbox_head.predict_box_type,
                num_classes=self.bbox_head.num_classes,
                score_per_cls=rcnn_test_cfg is None)
        bbox_results = self._bbox_forward(x, rois)
        clip_probs = self.clip_probs(clip_dense, rois,
                                     batch_img_metas[0]['batch_input_shape'])
        sizes = tuple(len(p) for p in proposals)
        # MMDetection's decoding without NMS (its aug-test path): boxes and
        # softmax scores per class, fused below before the NMS
        raw = self.bbox_head.predict_by_feat(
            rois=rois.split(sizes),
            cls_scores=bbox_results['cls_score'].split(sizes),
            bbox_preds=bbox_results['bbox_pred'].split(sizes),
            batch_img_metas=batch_img_metas,
            rcnn_test_cfg=None,
            rescale=rescale)
        base_mask = self.bbox_head.base_mask
        results = []
        for res, probs in zip(raw, clip_probs.split(sizes)):
            scores = fuse_clip_scores(res.scores.float(), probs, base_mask,
                                      self.clip_fusion['alpha'],
                                      self.clip_fusion['beta'])
            if rcnn_test_cfg is None:
                res.scores = scores
                results.append(res)
                continue
            bboxes, labels = multiclass_nms(
                res.bboxes,
                scores,
                rcnn_test_cfg.score_thr,
                rcnn_test_cfg.nms,
                rcnn_test_cfg.max_per_img,
                box_dim=res.bboxes.size(-1))
            out = InstanceData()
            out.bboxes = bboxes[:, :-1]
            out.scores = bboxes[:, -1]
            out.labels = labels
            results.append(out)
        return results

    def predict(self,
                x: Tuple[Tensor],
                rpn_results_list: InstanceList,
                batch_data_samples: SampleList,
                rescale: bool = False,
                clip_dense: Optional[Tensor] = None) -> InstanceList:
        """:meth:`StandardRoIHead.predict` with the dense CLIP map."""
        batch_img_metas = [s.metainfo for s in batch_data_samples]
        # the mask branch rescales boxes and masks together
        results_list = self.predict_bbox(
            x,
            batch_img_metas,
            rpn_results_list,
            rcnn_test_cfg=self.test_cfg,
            rescale=rescale if not self.with_mask else False,
            clip_dense=clip_dense)
        if self.with_mask:
            results_list = self.predict_mask(
                x, batch_img_metas, results_list, rescale=rescale)
        return results_list
