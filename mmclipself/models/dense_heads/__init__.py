# Copyright (c) mmclipself contributors. All rights reserved.
from .normed_rpn_head import NormedRPNHead

__all__ = ['NormedRPNHead']
