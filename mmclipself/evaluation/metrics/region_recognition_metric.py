# Copyright (c) mmclipself contributors. All rights reserved.
import os.path as osp
from typing import Dict, List, Optional, Sequence

import numpy as np
import torch
import torch.nn.functional as F
from mmengine.evaluator import BaseMetric

from mmclipself.registry import METRICS
from mmclipself.vocab import check_class_order, load_vocabulary


@METRICS.register_module()
class RegionRecognitionMetric(BaseMetric):
    """Zero-shot recognition of COCO panoptic regions (paper Tables 2, A3).

    Every non-crowd segment of COCO panoptic val2017 is classified among the
    dataset's classes by cosine similarity with class-name text embeddings
    (``tools/generate_text_embeddings.py --dataset coco_panoptic``):

    - ``box``: RoIAlign of the dense map on the boxes of thing segments
      (the paper's "Boxes");
    - ``thing_mask`` / ``stuff_mask``: mask pooling of the dense map;
    - ``crop_thing`` / ``crop_stuff``: the image-crop baseline, the
      teacher's image embedding of crops (thing boxes enlarged 1.5x, stuff
      crops the mask's box; release protocol).

    Each reports top-1 and top-5 **mean per-class accuracy** (mAcc: the
    accuracy of each class present, averaged over classes), in percent.

    Args:
        text_embeddings: File written by ``tools/generate_text_embeddings.py``
            whose ``class_names`` equal the dataset's classes, in order.
        collect_device: ``'cpu'`` or ``'gpu'``.
        prefix: Metric prefix. Defaults to ``'region_recog'``.
    """

    default_prefix: Optional[str] = 'region_recog'
    GROUPS = ('box', 'thing_mask', 'stuff_mask', 'crop_thing', 'crop_stuff')

    def __init__(self,
                 text_embeddings: str,
                 collect_device: str = 'cpu',
                 prefix: Optional[str] = None) -> None:
        super().__init__(collect_device=collect_device, prefix=prefix)
        if not osp.isfile(text_embeddings):
            raise FileNotFoundError(
                f'text embeddings not found: {text_embeddings}; make them '
                'with tools/generate_text_embeddings.py --dataset '
                'coco_panoptic')
        vocab = load_vocabulary(text_embeddings)
        self.class_names = list(vocab.class_names)
        self.embeddings = vocab.embeddings
        self.vocabulary_provenance = dict(vocab.provenance)
        self.source = text_embeddings

    def _check(self) -> None:
        classes = list(self.dataset_meta.get('classes', ())) \
            if self.dataset_meta else []
        if classes:
            check_class_order(classes, self.class_names,
                              f'{type(self).__name__} dataset',
                              f'text embeddings {self.source}')

    def _top5(self, feats: torch.Tensor) -> np.ndarray:
        if feats.shape[-1] != self.embeddings.shape[-1]:
            raise ValueError(
                f'region features have width {feats.shape[-1]} but the text '
                f'embeddings in {self.source} have width '
                f'{self.embeddings.shape[-1]}: use embeddings of the same '
                'CLIP')
        logits = F.normalize(feats.float().cpu(), dim=-1) @ self.embeddings.T
        return logits.topk(min(5, logits.shape[1]), dim=1).indices.numpy()

    def process(self, data_batch: dict, data_samples: Sequence) -> None:
        self._check()
        for s in data_samples:
            get = (lambda k: s[k]) if isinstance(
                s, dict) else (lambda k: getattr(s, k))
            labels = get('gt_labels').cpu().numpy()
            thing = get('is_thing').cpu().numpy().astype(bool)
            box = self._top5(get('region_feats'))
            mask = self._top5(get('mask_feats'))
            crop = self._top5(get('crop_feats'))
            self.results.append(
                dict(
                    box=(labels[thing], box[thing]),
                    thing_mask=(labels[thing], mask[thing]),
                    stuff_mask=(labels[~thing], mask[~thing]),
                    crop_thing=(labels[thing], crop[thing]),
                    crop_stuff=(labels[~thing], crop[~thing])))

    @staticmethod
    def calculate(labels: np.ndarray, top5: np.ndarray) -> Dict[str, float]:
        """Top-1 / top-5 mean per-class accuracy in percent.

        Args:
            labels: (N,) ground-truth classes.
            top5: (N, k) predicted classes, best first (k >= 1).

        Returns:
            ``{'top1': ..., 'top5': ...}``; NaN when ``labels`` is empty.
        """
        if len(labels) == 0:
            return dict(top1=float('nan'), top5=float('nan'))
        hit1 = top5[:, 0] == labels
        hit5 = (top5 == labels[:, None]).any(axis=1)
        classes = np.unique(labels)
        acc1 = [hit1[labels == c].mean() for c in classes]
        acc5 = [hit5[labels == c].mean() for c in classes]
        return dict(
            top1=100. * float(np.mean(acc1)), top5=100. * float(np.mean(acc5)))

    def compute_metrics(self, results: List[dict]) -> Dict[str, float]:
        metrics = {}
        for group in self.GROUPS:
            labels = np.concatenate([r[group][0] for r in results])
            preds = np.concatenate([r[group][1] for r in results])
            for k, v in self.calculate(labels, preds).items():
                metrics[f'{group}_{k}'] = v
        return metrics
