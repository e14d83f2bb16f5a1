# Copyright (c) mmclipself contributors. All rights reserved.
from .region_alignment_metric import RegionAlignmentMetric

__all__ = ['RegionAlignmentMetric']
