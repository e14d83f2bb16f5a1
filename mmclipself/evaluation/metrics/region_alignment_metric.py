# Copyright (c) mmclipself contributors. All rights reserved.
from typing import Dict, List, Optional, Sequence

import numpy as np
from mmengine.evaluator import BaseMetric

from mmclipself.registry import METRICS


@METRICS.register_module()
class RegionAlignmentMetric(BaseMetric):
    """Region-to-crop alignment: how well dense regions match crop embeddings.

    The mean cosine similarity between the student's region embeddings
    (RoIAlign on the dense map) and the teacher's image embeddings of the
    same regions cropped from the image, the quantity CLIPSelf maximises
    (paper §3.2). Before training the student equals the teacher, so the
    value measures the gap of paper Fig. 1b; it rises as CLIPSelf trains.

    Args:
        collect_device: ``'cpu'`` or ``'gpu'``.
        prefix: Metric name prefix. Defaults to ``'clipself'``.
    """

    default_prefix: Optional[str] = 'clipself'

    def process(self, data_batch: dict, data_samples: Sequence) -> None:
        for sample in data_samples:
            cos = sample['region_crop_cos'] if isinstance(sample, dict) \
                else sample.region_crop_cos
            self.results.append(cos.detach().float().cpu().numpy())

    @staticmethod
    def calculate(cosines: List[np.ndarray]) -> Dict[str, float]:
        """Mean over all regions and mean of per-image means.

        Args:
            cosines: One array of region cosines per image.
        """
        if not cosines or not sum(len(c) for c in cosines):
            raise ValueError('RegionAlignmentMetric got no region')
        flat = np.concatenate(cosines)
        per_image = [c.mean() for c in cosines if len(c)]
        return dict(
            region_crop_cos=float(flat.mean()),
            image_mean_cos=float(np.mean(per_image)),
            num_regions=int(flat.size))

    def compute_metrics(self, results: list) -> Dict[str, float]:
        return self.calculate(results)
