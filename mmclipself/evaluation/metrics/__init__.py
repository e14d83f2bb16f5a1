# Copyright (c) mmclipself contributors. All rights reserved.
from .background_iou_metric import BackgroundIoUMetric
from .ov_coco_metric import OVCocoMetric
from .ov_lvis_metric import OVLVISMetric
from .region_alignment_metric import RegionAlignmentMetric
from .region_recognition_metric import RegionRecognitionMetric

__all__ = [
    'OVCocoMetric', 'OVLVISMetric', 'RegionAlignmentMetric',
    'RegionRecognitionMetric', 'BackgroundIoUMetric'
]
