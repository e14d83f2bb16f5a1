# Copyright (c) mmclipself contributors. All rights reserved.
import copy
from typing import Dict, List, Optional, Union

import torch
import torch.nn.functional as F
from mmengine.model import BaseModel
from mmengine.structures import BaseDataElement
from torch import Tensor

from mmclipself.registry import MODELS
from mmclipself.utils.typing_utils import (ConfigType, OptConfigType,
                                           OptMultiConfig)
from ..layers import DenseMaskPool, DenseRoIPool
from ..utils.frozen import (freeze_module, is_initialised, record_weights,
                            register_frozen_part, weights_fingerprint,
                            weights_record)


@MODELS.register_module()
class CLIPSelfDistiller(BaseModel):
    """CLIPSelf self-distillation (paper §3.2, Fig. 3b).

    The student is a CLIP ViT trained so that each region pooled by
    RoIAlign from its dense map (paper §3.1) matches the teacher's image
    embedding of the same region cropped from the image:
    ``loss_cosine = 1 - cos(s_dense, t_image)``, averaged over regions. The
    teacher is a frozen copy initialised from the same weights, kept in eval
    mode and run under ``torch.inference_mode``.

    The teacher is a frozen part (:mod:`mmclipself.models.utils.frozen`): it
    equals its initial weights, so checkpoints hold only a record of them
    (source and fingerprint) unless ``save_teacher``. It is re-made by
    :meth:`init_weights` (training) or the ``InitFrozenPartsHook`` (test,
    val) and checked against the record when a checkpoint loads. A teacher
    copied from a randomly initialised student (the tiny demo) is re-made by
    the same seeded initialisation; save it (``save_teacher=True``) to test a
    random-tower checkpoint in another process.

    Args:
        student: Config of a :class:`BaseCLIPViT` (its ``pretrained`` gives
            both towers their weights).
        teacher: Optional separate teacher config; by default the student
            config with every block frozen and global attention (no
            ``window_attn``). Unless it names other ``pretrained`` weights,
            it copies the student's weights after initialisation.
        save_teacher: Also store the teacher's tensors in checkpoints.
        loss: Loss config. Defaults to :class:`CosineSimilarityLoss`.
        data_preprocessor: Defaults to :class:`CLIPSelfDataPreprocessor`.
        init_cfg: MMEngine initialisation config.
    """

    def __init__(self,
                 student: ConfigType,
                 teacher: OptConfigType = None,
                 save_teacher: bool = False,
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
            teacher.pop('train_patterns', None)
            # the teacher is the original CLIP: global attention on crops
            teacher.pop('with_cp', None)
            teacher.pop('window_attn', None)
        self.teacher = MODELS.build(teacher)
        register_frozen_part(
            self,
            'teacher',
            store_weights=save_teacher,
            init_fn='_init_teacher')
        self.loss_cosine = MODELS.build(loss)
        # the student's dense map is L2-normalised by the tower
        self.roi_pool = DenseRoIPool(patch_size=self.student.patch_size)
        self.mask_pool = DenseMaskPool(
            patch_size=self.student.patch_size, normalize_input=False)
        self._freeze_unused_student_params()

    def _freeze_unused_student_params(self) -> None:
        """Freeze the last block's query/key: the dense path never uses them.

        They would get no gradient anyway (the release leaves them untouched
        too); freezing keeps DDP from needing ``find_unused_parameters``.
        Both towers have separate ``attn.q_proj``/``attn.k_proj`` (EVA02
        natively, OpenAI through :class:`SplitQKVAttention`); timm's
        fused-qkv EVA layout has none and is left as it is.
        """
        attn = getattr(self.student.blocks()[-1], 'attn', None)
        for name in ('q_proj', 'k_proj'):
            module = getattr(attn, name, None)
            if module is not None:
                module.requires_grad_(False)

    def init_weights(self) -> None:
        """Initialise the student, then the teacher from the same weights.

        Towers initialised already (e.g. by the ``InitFrozenPartsHook``,
        which runs first in ``Runner.train``) are left as they are, so no
        file is read twice and a random student is drawn once.
        """
        if not self.student.is_init:
            self.student.init_weights()
        if not is_initialised(self.teacher):
            self._init_teacher()
        self._freeze_unused_student_params()

    def _init_teacher(self) -> None:
        """Give the teacher its weights (and record them).

        A teacher with its own ``pretrained`` (other than the student's)
        reads it; otherwise it copies the student's initial weights,
        initialising the student first if needed (one file read). If the
        student changed since its initialisation (trained or loaded), the
        teacher reads ``pretrained`` itself; a random initial student cannot
        be recovered then.
        """
        own = getattr(self.teacher, 'pretrained', None)
        if own and own != self.student.pretrained:
            self.teacher.init_weights()
        else:
            initial = weights_record(self.student)
            if initial is None:
                self.student.init_weights()
                initial = weights_record(self.student) or record_weights(
                    self.student, self.student.pretrained)
            if weights_fingerprint(self.student) == initial['fingerprint']:
                # same weights: copy instead of reading the file twice
                self.teacher.load_state_dict(self.student.state_dict())
                record_weights(self.teacher, initial['source'])
                self.teacher._is_init = True
            elif own:
                self.teacher.init_weights()
            else:
                raise RuntimeError(
                    'the teacher copies the student\'s random initial '
                    'weights, but the student has changed since they were '
                    'drawn; initialise the model before training or loading '
                    'it, or save checkpoints with save_teacher=True')
        freeze_module(self.teacher)

    def train(self, mode: bool = True) -> 'CLIPSelfDistiller':
        super().train(mode)
        self.teacher.eval()
        return self

    def region_features(self, images: Tensor, rois: Tensor) -> Tensor:
        """Student region embeddings: RoIAlign (1x1) on the dense map.

        Follows the release: the dense map is L2-normalised per location,
        then pooled by :class:`DenseRoIPool` (``roi_align(output 1x1,
        adaptive sampling, aligned=True)`` at stride = patch size).

        Args:
            images: Student inputs (B, 3, S, S).
            rois: (N, 5) ``[batch index, x1, y1, x2, y2]`` in input pixels.

        Returns:
            (N, D) region embeddings.
        """
        return self._pool_rois(self.student.forward_dense(images), rois)

    def _pool_rois(self, dense: Tensor, rois: Tensor) -> Tensor:
        return self.roi_pool(dense, rois)

    def mask_features(self, dense: Tensor,
                      data_samples: List[BaseDataElement]) -> List[Tensor]:
        """Mask pooling of the dense map (paper §4.2, panoptic masks).

        Each mask (original pixels) is resized with area interpolation to the
        part of the feature grid its image covers, and the dense features are
        averaged with the resulting coverage weights (:class:`DenseMaskPool`,
        batched over all masks of the batch).

        Returns:
            Per sample, (K, D) mask embeddings.
        """
        return self.mask_pool(dense, [s.masks for s in data_samples],
                              [s.scale_factor for s in data_samples])

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
