# Copyright (c) mmclipself contributors. All rights reserved.
import numpy as np
import pytest
import torch
from mmengine.structures import BaseDataElement

from mmclipself.evaluation import RegionAlignmentMetric


def test_calculate_hand_built():
    res = RegionAlignmentMetric.calculate(
        [np.array([1., 0.]), np.array([0.5]),
         np.array([])])
    assert res['region_crop_cos'] == pytest.approx(0.5)
    assert res['image_mean_cos'] == pytest.approx(0.5)  # (0.5 + 0.5) / 2
    assert res['num_regions'] == 3
    with pytest.raises(ValueError, match='no region'):
        RegionAlignmentMetric.calculate([np.array([])])


def test_process_and_evaluate_with_prefix():
    metric = RegionAlignmentMetric()
    s = BaseDataElement()
    s.region_crop_cos = torch.tensor([0.2, 0.4])
    metric.process({}, [s])
    res = metric.evaluate(1)
    assert res['clipself/region_crop_cos'] == pytest.approx(0.3)
