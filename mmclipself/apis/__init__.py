# Copyright (c) mmclipself contributors. All rights reserved.
from .ov_det_inferencer import OVDetInferencer
from .ov_detector import (build_test_pipeline, inference_ov_detector,
                          init_ov_detector, load_image, set_vocabulary)
from .ov_panoptic_inferencer import OVPanopticInferencer
from .ov_seg_inferencer import OVSegInferencer
from .text_tower import detector_text_tower
from .vocabulary import (encode_vocabulary, parse_class_names,
                         resolve_vocabulary, vocabulary_names)

__all__ = [
    'OVDetInferencer', 'OVSegInferencer', 'OVPanopticInferencer',
    'init_ov_detector', 'set_vocabulary', 'inference_ov_detector',
    'encode_vocabulary', 'resolve_vocabulary', 'parse_class_names',
    'load_image', 'build_test_pipeline', 'vocabulary_names',
    'detector_text_tower'
]
