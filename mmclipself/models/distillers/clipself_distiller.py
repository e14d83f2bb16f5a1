# Copyright (c) mmclipself contributors. All rights reserved.
import copy
from typing import Dict, List, Optional, Union

import torch
import torch.nn.functional as F
from mmengine.model import BaseModel
from mmengine.structures import BaseDataElement
from torch import Tensor
from torchvision.ops import roi_align

from mmclipself.registry import MODELS
from mmclipself.utils.typing_utils import (ConfigType, OptConfigType,
                                           OptMultiConfig)


@MODELS.register_module()
class CLIPSelfDistiller(BaseModel):
    """CLIPSelf self-distillation (paper §3.2, Fig. 3b).

    The student is a CLIP ViT trained so that each region pooled by
    RoIAlign from its dense map (paper §3.1) matches the teacher's image
    embedding of the same region cropped from the image:
    ``loss_cosine = 1 - cos(s_dense, t_image)``, averaged over regions. The
    teacher is a frozen copy initialised from the same weights, kept in eval
    mode and run under ``torch.inference_mode``.

    Args:
        student: Config of a :class:`BaseCLIPViT` (its ``pretrained`` gives
            both towers their weights).
        teacher: Optional separate teacher config; by default the student
            config with every block frozen and global attention (no
            ``window_attn``). Unless it names other ``pretrained`` weights,
            it copies the student's weights after initialisation.
        loss: Loss config. Defaults to :class:`CosineSimilarityLoss`.
        data_preprocessor: Defaults to :class:`CLIPSelfDataPreprocessor`.
        init_cfg: MMEngine initialisation config.
    """

    def __init__(self,
                 student: ConfigType,
                 teacher: OptConfigType = None,
                 loss: ConfigType = dict(type='CosineSimilarityLoss'),
                 data_preprocessor: OptConfigType = dict(
                     type='CLIPSelfDataPreprocessor'),
                 init_cfg: OptMultiConfig = None) -> None:
        super().__init__(
            data_preprocessor=data_preprocessor, init_cfg=init_cfg)
        self.student = MODELS.build(student)
        if teacher is None:
            teacher = copy.deepcopy(student)
            teacher['train_blocks'] = []
            # the teacher is the original CLIP: global attention on crops
            teacher.pop('with_cp', None)
            teacher.pop('window_attn', None)
        self.teacher = MODELS.build(teacher)
        self.teacher.requires_grad_(False)
        self.teacher.eval()
        self.loss_cosine = MODELS.build(loss)
        self._freeze_unused_student_params()

    def _freeze_unused_student_params(self) -> None:
        """Freeze the last block's query/key: the dense path never uses them.

        They would get no gradient anyway (the release leaves them untouched
        too); freezing keeps DDP from needing ``find_unused_parameters``.
        """
        attn = getattr(self.student.blocks()[-1], 'attn', None)
        for name in ('q_proj', 'k_proj'):
            module = getattr(attn, name, None)
            if module is not None:
                module.requires_grad_(False)

    def init_weights(self) -> None:
        """Initialise the student, then the teacher from the same weights."""
        self.student.init_weights()
        teacher_weights = getattr(self.teacher, 'pretrained', None)
        if teacher_weights and teacher_weights != self.student.pretrained:
            self.teacher.init_weights()
        else:  # same weights: copy instead of reading the file twice
            self.teacher.load_state_dict(self.student.state_dict())
            self.teacher._is_init = True
        self.teacher.requires_grad_(False)
        self._freeze_unused_student_params()

    def train(self, mode: bool = True) -> 'CLIPSelfDistiller':
        super().train(mode)
        self.teacher.eval()
        return self

    def region_features(self, images: Tensor, rois: Tensor) -> Tensor:
        """Student region embeddings: RoIAlign (1x1) on the dense map.

        Follows the release: the dense map is L2-normalised per location,
        then ``roi_align(output 1x1, adaptive sampling, aligned=True)``.

        Args:
            images: Student inputs (B, 3, S, S).
            rois: (N, 5) ``[batch index, x1, y1, x2, y2]`` in input pixels.

        Returns:
            (N, D) region embeddings.
        """
        return self._pool_rois(self.student.forward_dense(images), rois)

    def _pool_rois(self, dense: Tensor, rois: Tensor) -> Tensor:
        feats = roi_align(
            dense.float(),
            rois.to(dense.device).float(),
            output_size=(1, 1),
            spatial_scale=1. / self.student.patch_size,
            sampling_ratio=0,
            aligned=True)
        return feats.flatten(1)

    def mask_features(self, dense: Tensor,
                      data_samples: List[BaseDataElement]) -> List[Tensor]:
        """Mask pooling of the dense map (paper §4.2, panoptic masks).

        Each mask (original pixels) is resized with area interpolation to the
        part of the feature grid its image covers, and the dense features are
        averaged with the resulting coverage weights. One batched call per
        image, not per mask.

        Returns:
            Per sample, (K, D) mask embeddings.
        """
        p = self.student.patch_size
        hf, wf = dense.shape[-2:]
        out = []
        for b, sample in enumerate(data_samples):
            masks = sample.masks.to(dense.device).float()[:, None]
            sx, sy = sample.scale_factor
            h, w = masks.shape[-2:]
            gh = min(hf, max(1, round(h * sy / p)))
            gw = min(wf, max(1, round(w * sx / p)))
            weights = dense.new_zeros((masks.shape[0], hf, wf))
            weights[:, :gh, :gw] = F.interpolate(
                masks, size=(gh, gw), mode='area')[:, 0].to(dense.dtype)
            weights = weights.flatten(1)
            feats = weights @ dense[b].flatten(1).T
            out.append(feats / weights.sum(1, keepdim=True).clamp(min=1e-6))
        return out

    def teacher_features(self, crops: Tensor) -> Tensor:
        """Teacher image embeddings of the crops, as a normal tensor."""
        with torch.inference_mode():
            feats = self.teacher.forward_image(crops)
        # inference tensors cannot enter autograd: clone outside the mode
        return feats.clone().float()

    def loss(self, inputs: Dict[str, Tensor],
             data_samples: List[BaseDataElement]) -> Dict[str, Tensor]:
        """``{'loss_cosine': 1 - cos}`` over all regions of the batch."""
        student = self.region_features(inputs['images'], inputs['rois'])
        teacher = self.teacher_features(inputs['crops'])
        return dict(loss_cosine=self.loss_cosine(student, teacher))

    def predict(self, inputs: Dict[str, Tensor],
                data_samples: List[BaseDataElement]) -> List[BaseDataElement]:
        """Attach region features and their cosine to the teacher crops.

        Each sample gets ``region_feats`` / ``crop_feats`` (K, D) and
        ``region_crop_cos`` (K,), used by :class:`RegionAlignmentMetric`;
        samples with ``masks`` also get ``mask_feats`` (mask pooling), used
        with the other two by :class:`RegionRecognitionMetric`.
        """
        dense = self.student.forward_dense(inputs['images'])
        student = self._pool_rois(dense, inputs['rois'])
        teacher = self.teacher_features(inputs['crops'])
        if all('masks' in s for s in data_samples):
            for sample, feats in zip(data_samples,
                                     self.mask_features(dense, data_samples)):
                sample.mask_feats = feats
        cos = F.cosine_similarity(student, teacher, dim=-1)
        counts = [len(s.regions) for s in data_samples]
        for sample, s, t, c in zip(data_samples, student.split(counts),
                                   teacher.split(counts), cos.split(counts)):
            sample.region_feats = s
            sample.crop_feats = t
            sample.region_crop_cos = c
        return data_samples

    def forward(self,
                inputs: Union[Dict[str, Tensor], Tensor],
                data_samples: Optional[List[BaseDataElement]] = None,
                mode: str = 'tensor'):
        """MMEngine entry: ``'loss'``, ``'predict'`` or ``'tensor'``.

        ``'tensor'`` returns the student's dense map of ``inputs['images']``
        (or of a plain image tensor).
        """
        if mode == 'loss':
            return self.loss(inputs, data_samples)
        if mode == 'predict':
            return self.predict(inputs, data_samples)
        if mode == 'tensor':
            images = inputs['images'] if isinstance(inputs, dict) else inputs
            return self.student.forward_dense(images)
        raise RuntimeError(f'invalid mode {mode!r}: expected loss, predict '
                           'or tensor')
