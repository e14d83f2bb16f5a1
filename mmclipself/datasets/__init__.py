# Copyright (c) mmclipself contributors. All rights reserved.
from .ade20k_847_dataset import ADE20K847Dataset
from .coco_panoptic_region_dataset import CocoPanopticRegionDataset
from .image_region_dataset import ImageRegionDataset
from .label_folder_seg_dataset import LabelFolderSegDataset
from .ov_annotations import build_ov_coco, build_ov_lvis, summarize_split
from .ov_coco_dataset import OVCocoDataset
from .ov_lvis_dataset import OVLVISV1Dataset
from .pascal_context_459_dataset import PascalContext459Dataset
from .transforms import *  # noqa: F401,F403
from .vocabulary_metainfo import VocabularyMetainfo

__all__ = [
    'ImageRegionDataset', 'CocoPanopticRegionDataset', 'build_ov_coco',
    'build_ov_lvis', 'summarize_split', 'OVCocoDataset', 'OVLVISV1Dataset',
    'LabelFolderSegDataset', 'ADE20K847Dataset', 'PascalContext459Dataset',
    'VocabularyMetainfo'
]
