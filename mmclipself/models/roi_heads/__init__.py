# Copyright (c) mmclipself contributors. All rights reserved.
from .bbox_heads import OVConvFCBBoxHead
from .fvit_roi_head import FViTRoIHead

__all__ = ['OVConvFCBBoxHead', 'FViTRoIHead']
