# Copyright (c) mmclipself contributors. All rights reserved.
from .formatting import PackRegionInputs
from .loading import LoadImageOrSkip
from .panoptic_regions import LoadPanopticRegions
from .proposal_regions import ProposalRegions
from .region_sampling import RandomGridRegions

__all__ = [
    'LoadImageOrSkip', 'RandomGridRegions', 'ProposalRegions',
    'PackRegionInputs', 'LoadPanopticRegions'
]
