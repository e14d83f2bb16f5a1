# Copyright (c) mmclipself contributors. All rights reserved.
from .coco_panoptic_region_dataset import CocoPanopticRegionDataset
from .image_region_dataset import ImageRegionDataset
from .transforms import *  # noqa: F401,F403

__all__ = ['ImageRegionDataset', 'CocoPanopticRegionDataset']
