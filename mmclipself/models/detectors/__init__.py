# Copyright (c) mmclipself contributors. All rights reserved.
from .fvit import FViT
from .ov_mask2former import OVMask2Former

__all__ = ['FViT', 'OVMask2Former']
