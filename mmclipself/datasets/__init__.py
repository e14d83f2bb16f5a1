# Copyright (c) mmclipself contributors. All rights reserved.
from .coco_panoptic_region_dataset import CocoPanopticRegionDataset
from .image_region_dataset import ImageRegionDataset
from .ov_annotations import build_ov_coco, build_ov_lvis, summarize_split
from .ov_coco_dataset import OVCocoDataset
from .ov_lvis_dataset import OVLVISV1Dataset
from .transforms import *  # noqa: F401,F403

__all__ = [
    'ImageRegionDataset', 'CocoPanopticRegionDataset', 'build_ov_coco',
    'build_ov_lvis', 'summarize_split', 'OVCocoDataset', 'OVLVISV1Dataset'
]
