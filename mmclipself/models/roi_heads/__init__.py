# Copyright (c) mmclipself contributors. All rights reserved.
from .bbox_heads import OVConvFCBBoxHead
from .fvit_roi_head import FViTRoIHead
from .score_fusion import fuse_clip_scores

__all__ = ['OVConvFCBBoxHead', 'FViTRoIHead', 'fuse_clip_scores']
