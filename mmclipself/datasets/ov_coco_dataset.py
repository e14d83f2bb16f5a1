# Copyright (c) mmclipself contributors. All rights reserved.
from mmdet.datasets import CocoDataset

from mmclipself.registry import DATASETS
from mmclipself.vocab import get_class_names


def _coco65_metainfo() -> dict:
    keep = set(get_class_names('coco65'))
    coco = CocoDataset.METAINFO
    pairs = [(c, p) for c, p in zip(coco['classes'], coco['palette'])
             if c in keep]
    return dict(
        classes=tuple(c for c, _ in pairs), palette=[p for _, p in pairs])


@DATASETS.register_module()
class OVCocoDataset(CocoDataset):
    """COCO restricted to the 65 classes of OV-COCO (48 base + 17 novel).

    Follows the OV-COCO split of Bansal et al. (2018) used by F-ViT and the
    CLIPSelf release: the training file
    (``tools/dataset_converters/build_ov_coco.py --split train``) has
    annotations of the 48 base classes only, the validation file those of
    all 65. Labels are indices into these 65 classes, in COCO order, the
    same order as ``get_class_names('coco65')`` and its text embeddings.
    """

    METAINFO = _coco65_metainfo()
