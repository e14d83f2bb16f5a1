# Copyright (c) mmclipself contributors. All rights reserved.
from .ov_convfc_bbox_head import OVConvFCBBoxHead

__all__ = ['OVConvFCBBoxHead']
