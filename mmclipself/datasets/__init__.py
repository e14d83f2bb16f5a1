# Copyright (c) mmclipself contributors. All rights reserved.
from .image_region_dataset import ImageRegionDataset
from .transforms import *  # noqa: F401,F403

__all__ = ['ImageRegionDataset']
