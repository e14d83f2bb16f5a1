# Copyright (c) mmclipself contributors. All rights reserved.
import json
from typing import List

from mmdet.datasets import CocoDataset

from mmclipself.registry import DATASETS
from mmclipself.vocab import get_class_names
from .checks import missing_names, require_dir, require_file


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

    def load_data_list(self) -> List[dict]:
        """Load the annotations after checking what the config points to.

        The annotation file and image folder must exist, and the file's
        ``categories`` must name every class of the dataset: MMDetection
        would otherwise number the classes it finds and shift every label.

        Raises:
            FileNotFoundError: The annotation file or image folder is
                missing (named).
            ValueError: Classes are missing from the file's categories
                (the classes and the file are named).
        """
        hint = (f'data_root is {self.data_root!r}; build the OV-COCO files '
                'with tools/dataset_converters/build_ov_coco.py')
        require_file(self.ann_file, 'ann_file', hint)
        require_dir(self.data_prefix.get('img', ''), 'data_prefix.img', hint)
        data_list = super().load_data_list()
        classes = self.metainfo['classes']
        if len(self.cat_ids) < len(classes):
            with open(self.ann_file) as f:
                cats = json.load(f).get('categories', [])
            missing = missing_names(classes, [c.get('name') for c in cats])
            raise ValueError(
                f'{self.ann_file}: "categories" lacks {len(missing)} of the '
                f'{len(classes)} classes of {type(self).__name__}: '
                f'{missing[:10]}; use an annotation file with all of them '
                '(tools/dataset_converters/build_ov_coco.py keeps every '
                'category) or set metainfo=dict(classes=...)')
        return data_list
