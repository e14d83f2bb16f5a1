# Copyright (c) mmclipself contributors. All rights reserved.
from .normed_rpn_head import NormedRPNHead
from .ov_mask2former_head import OVMask2FormerHead

__all__ = ['NormedRPNHead', 'OVMask2FormerHead']
