# Copyright (c) mmclipself contributors. All rights reserved.
from .formatting import PackRegionInputs
from .load_seg_annotations16 import LoadSegAnnotations16
from .loading import LoadImageOrSkip
from .panoptic_regions import LoadPanopticRegions
from .proposal_regions import ProposalRegions
from .region_sampling import RandomGridRegions

__all__ = [
    'LoadImageOrSkip', 'RandomGridRegions', 'ProposalRegions',
    'PackRegionInputs', 'LoadPanopticRegions', 'LoadSegAnnotations16'
]
