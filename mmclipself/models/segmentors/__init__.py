# Copyright (c) mmclipself contributors. All rights reserved.
from .catseg import CATSeg, resolve_class_names
from .view_inference import crop_views, fold_views, window_positions

__all__ = [
    'CATSeg', 'resolve_class_names', 'crop_views', 'fold_views',
    'window_positions'
]
