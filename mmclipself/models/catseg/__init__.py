# Copyright (c) mmclipself contributors. All rights reserved.
from .aggregator import CostAggregator
from .class_aggregation import ClassAggregation
from .class_selection import (gather_classes, scatter_classes,
                              select_top_classes)
from .cost_volume import CostEmbedding, cost_volume
from .guided_linear import guided_linear
from .guided_swin_block import GuidedSwinBlock
from .guided_upsample import GuidedUpsample
from .linear_attention import linear_attention
from .spatial_aggregation import SpatialAggregation
from .upsample_decoder import UpsampleDecoder
from .window_ops import (SHIFTED_WINDOW_MASK_VALUE, shifted_window_mask,
                         window_partition, window_reverse)

__all__ = [
    'CostAggregator', 'ClassAggregation', 'gather_classes', 'scatter_classes',
    'select_top_classes', 'CostEmbedding', 'cost_volume', 'guided_linear',
    'GuidedSwinBlock', 'GuidedUpsample', 'linear_attention',
    'SpatialAggregation', 'UpsampleDecoder', 'SHIFTED_WINDOW_MASK_VALUE',
    'shifted_window_mask', 'window_partition', 'window_reverse'
]
