# Copyright (c) mmclipself contributors. All rights reserved.
import os.path as osp
from typing import Dict, List, Optional, Sequence

import mmengine.fileio as fileio
from mmseg.datasets import BaseSegDataset

from mmclipself.registry import DATASETS
from .checks import require_all_exist, require_dir, require_file


@DATASETS.register_module()
class LabelFolderSegDataset(BaseSegDataset):
    """mmseg's ``BaseSegDataset`` whose samples are its label files.

    Evaluation sets converted for Cat-Seg keep their labels in a folder of
    their own beside a shared image folder: PC-459 has 5104 label files
    for all the images of VOC2010 ``JPEGImages``. Without ``ann_file``,
    each label file under ``data_prefix['seg_map_path']`` (ending in
    ``seg_map_suffix``, recursively, sorted) is a sample whose image has
    the same name (with ``img_suffix``) under ``data_prefix['img_path']``
    (Cat-Seg reads these sets with detectron2's ``load_sem_seg``, which
    also pairs images with label files). With ``ann_file``, mmseg's
    listing applies.

    Errors name the path: a missing folder or split file, a label folder
    without label files, images missing for some labels.

    The class list is kept whole: mmseg sends the classes left out of a
    ``metainfo`` class subset to label 255, which is a class of ADE-847
    and PC-459 and not their ignore index, so subsets (and reorderings) of
    a subclass's ``METAINFO`` classes are refused.

    Args:
        img_suffix: Image file ending. Defaults to '.jpg'.
        seg_map_suffix: Label file ending. Defaults to '.png'.
        **kwargs: ``BaseSegDataset`` arguments.
    """

    #: What to do when the data is missing (subclasses name a converter).
    PREPARE_HINT = 'check data_root and data_prefix'

    @classmethod
    def get_label_map(
        cls,
        new_classes: Optional[Sequence[str]] = None
    ) -> Optional[Dict[int, int]]:
        """mmseg's label map; refuses class subsets (see the class doc).

        Raises:
            ValueError: ``metainfo`` classes differ from ``METAINFO``'s.
        """
        label_map = super().get_label_map(new_classes)
        if label_map is not None:
            old = cls.METAINFO['classes']
            raise ValueError(
                f'{cls.__name__} scores all its {len(old)} classes in '
                f'order; metainfo classes ({len(new_classes)}, first '
                f'{list(new_classes)[:3]}) are another list. mmseg would '
                'send the left-out classes to label 255, a class here: '
                'leave metainfo classes unset and give the model the '
                'vocabulary you want to score')
        return label_map

    def load_data_list(self) -> List[dict]:
        """Samples from the label folder (or ``ann_file``); see the class.

        Raises:
            FileNotFoundError: A folder, the split file or images are
                missing (named).
            ValueError: No label file in the label folder.
        """
        img_dir = self.data_prefix.get('img_path', '') or ''
        ann_dir = self.data_prefix.get('seg_map_path', '') or ''
        require_dir(img_dir, "data_prefix['img_path']", self.PREPARE_HINT)
        require_dir(ann_dir, "data_prefix['seg_map_path']", self.PREPARE_HINT)
        if self.ann_file or not ann_dir:
            if self.ann_file and not osp.isdir(self.ann_file):
                require_file(self.ann_file, 'ann_file', self.PREPARE_HINT)
            data_list = super().load_data_list()
        else:
            data_list = self._list_label_folder(img_dir, ann_dir)
        require_all_exist([d['img_path'] for d in data_list], img_dir)
        return data_list

    def _list_label_folder(self, img_dir: str, ann_dir: str) -> List[dict]:
        """One sample per label file of ``ann_dir``, sorted by image."""
        n = len(self.seg_map_suffix)
        data_list = [
            dict(
                img_path=osp.join(img_dir, seg[:-n] + self.img_suffix),
                seg_map_path=osp.join(ann_dir, seg),
                label_map=self.label_map,
                reduce_zero_label=self.reduce_zero_label,
                seg_fields=[]) for seg in fileio.list_dir_or_file(
                    dir_path=ann_dir,
                    list_dir=False,
                    suffix=self.seg_map_suffix,
                    recursive=True,
                    backend_args=self.backend_args)
        ]
        if not data_list:
            raise ValueError(
                f'no label files ending in {self.seg_map_suffix!r} in '
                f"data_prefix['seg_map_path'] {ann_dir!r}; "
                f'{self.PREPARE_HINT}')
        return sorted(data_list, key=lambda d: d['img_path'])
