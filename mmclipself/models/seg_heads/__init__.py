# Copyright (c) mmclipself contributors. All rights reserved.
from .ov_maskformer_fusion_head import OVMaskFormerFusionHead

__all__ = ['OVMaskFormerFusionHead']
