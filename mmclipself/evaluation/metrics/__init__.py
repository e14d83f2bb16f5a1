# Copyright (c) mmclipself contributors. All rights reserved.
from .region_alignment_metric import RegionAlignmentMetric
from .region_recognition_metric import RegionRecognitionMetric

__all__ = ['RegionAlignmentMetric', 'RegionRecognitionMetric']
