# Copyright (c) mmclipself contributors. All rights reserved.
from types import SimpleNamespace

from mmdet.models.detectors import TwoStageDetector
from mmdet.structures import SampleList
from torch import Tensor

from mmclipself.registry import MODELS
from mmclipself.vocab import check_text_matches_image


@MODELS.register_module()
class FViT(TwoStageDetector):
    """F-ViT: a two-stage open-vocabulary detector on a frozen CLIP ViT.

    Follows the CLIPSelf paper (§4.3, A.3) and F-VLM: a frozen CLIP ViT with
    a 4-level pyramid (:class:`CLIPViTPyramid`), a standard FPN, a
    class-agnostic RPN and an :class:`FViTRoIHead` whose classifier is the
    CLIP text embeddings of the vocabulary. Training is MMDetection's
    two-stage training. At test time the same tower pass also yields the
    dense CLIP map, which the RoI head uses to fuse CLIP scores into the
    detector's (skipped when the head has no ``clip_fusion``).

    At build, the classifier must be as wide as the tower's embedding and,
    when both are known, its vocabulary must come from the text tower of the
    tower's CLIP (:func:`~mmclipself.vocab.check_text_matches_image`).

    Args: see :class:`mmdet.models.TwoStageDetector`.
    """

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        if getattr(self.roi_head, 'with_clip_fusion',
                   False) and not hasattr(self.backbone, 'forward_with_dense'):
            raise TypeError(
                f'roi_head.clip_fusion needs a backbone with a dense CLIP map '
                f'(forward_with_dense, e.g. CLIPViTPyramid), got '
                f'{type(self.backbone).__name__}')
        clip = getattr(self.backbone, 'clip', None)
        classifier = getattr(self.roi_head.bbox_head, 'fc_cls', None)
        if clip is not None and hasattr(
                classifier, 'in_features') and (clip.output_dim
                                                != classifier.in_features):
            raise ValueError(
                f'the CLIP tower embeds into {clip.output_dim}-d but the '
                f'text classifier is {classifier.in_features}-d: use the '
                'text embeddings of the same CLIP and set '
                f'bbox_head.fc_out_channels={clip.output_dim}')
        # same width is not enough (OpenAI ViT-B/16 and EVA02-CLIP B/16
        # both embed to 512-d): compare the CLIPs when both are known
        provenance = getattr(classifier, 'vocabulary_provenance', None)
        if clip is not None and provenance:
            file = getattr(self.roi_head.bbox_head, 'cls_predictor_cfg',
                           {}).get('embeddings')
            check_text_matches_image(
                SimpleNamespace(provenance=provenance, where=file), clip,
                'roi_head.bbox_head')

    def predict(self,
                batch_inputs: Tensor,
                batch_data_samples: SampleList,
                rescale: bool = True) -> SampleList:
        """:meth:`TwoStageDetector.predict` plus the dense CLIP map."""
        clip_dense = None
        if getattr(self.roi_head, 'with_clip_fusion', False):
            feats, clip_dense = self.backbone.forward_with_dense(batch_inputs)
            x = self.neck(feats) if self.with_neck else feats
        else:
            x = self.extract_feat(batch_inputs)
        if batch_data_samples[0].get('proposals', None) is None:
            rpn_results_list = self.rpn_head.predict(
                x, batch_data_samples, rescale=False)
        else:
            rpn_results_list = [s.proposals for s in batch_data_samples]
        kwargs = dict(clip_dense=clip_dense) if clip_dense is not None else {}
        results_list = self.roi_head.predict(
            x, rpn_results_list, batch_data_samples, rescale=rescale, **kwargs)
        return self.add_pred_to_datasample(batch_data_samples, results_list)
