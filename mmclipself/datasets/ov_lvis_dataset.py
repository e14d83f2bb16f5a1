# Copyright (c) mmclipself contributors. All rights reserved.
import json
import os.path as osp
from typing import List

from mmdet.datasets import LVISV1Dataset

from mmclipself.registry import DATASETS
from mmclipself.vocab import categories_file
from .checks import require_dir, require_file


def read_category_names(ann_file: str) -> List[str]:
    """Category names of a COCO/LVIS json, in ``id`` order.

    Reads the small category-only companion (``x_categories.json``, written
    by ``tools/dataset_converters/build_ov_lvis.py``) when it sits beside
    ``ann_file``, else ``ann_file`` itself.
    """
    small = categories_file(ann_file)
    path = small if osp.isfile(small) else ann_file
    with open(path) as f:
        cats = json.load(f).get('categories') or []
    return [c['name'] for c in sorted(cats, key=lambda c: c['id'])]


@DATASETS.register_module()
class OVLVISV1Dataset(LVISV1Dataset):
    """MMDetection's ``LVISV1Dataset`` that checks its annotation file.

    MMDetection's LVIS dataset numbers the categories of whatever file it
    is given, in id order, and never compares them with the dataset's
    classes (the vocabulary of the text embeddings): a LVIS v0.5 file
    (1230 categories) or a file with other categories trains and evaluates
    with shifted labels, silently. Here, before the first iteration, the
    file must exist and its categories must be the dataset's classes, in
    order; the error names the file and the first difference. Otherwise
    the dataset is MMDetection's (same data list, same metainfo).
    """

    def load_data_list(self) -> List[dict]:
        """Check the files, load as MMDetection does, check categories.

        Raises:
            FileNotFoundError: The annotation file or image folder is
                missing (named).
            ValueError: The file's categories are not the classes (the
                file, the counts and the first mismatch are named).
        """
        hint = (f'data_root is {self.data_root!r}; build the OV-LVIS files '
                'with tools/dataset_converters/build_ov_lvis.py')
        require_file(self.ann_file, 'ann_file', hint)
        require_dir(self.data_prefix.get('img', ''), 'data_prefix.img', hint)
        data_list = super().load_data_list()
        classes = list(self.metainfo['classes'])
        names = read_category_names(self.ann_file)
        if names != classes:
            first = next(
                (i for i, (a, b) in enumerate(zip(names, classes)) if a != b),
                min(len(names), len(classes)))
            found = names[first] if first < len(names) else '(none)'
            wanted = classes[first] if first < len(classes) else '(none)'
            raise ValueError(
                f'{self.ann_file}: its {len(names)} categories are not the '
                f'{len(classes)} classes of {type(self).__name__} in order: '
                f'category {first} is {found!r}, the class is {wanted!r}. '
                'Labels would be shifted; use a LVIS v1 file (ids 1-1203) '
                'or set metainfo=dict(classes=...) to the file\'s names')
        return data_list
