# Copyright (c) mmclipself contributors. All rights reserved.
import json
import os.path as osp
from typing import List, Optional

from mmengine.dataset import BaseDataset

from mmclipself.registry import DATASETS
from .checks import require_dir, require_file, require_test_sample


@DATASETS.register_module()
class CocoPanopticRegionDataset(BaseDataset):
    """COCO panoptic segments as regions to recognise (paper §4.2, Table 2).

    Each image's non-crowd segments become regions: their boxes, their masks
    (read from the panoptic PNGs by :class:`LoadPanopticRegions`) and their
    class among the 133 panoptic categories, ordered as the categories of
    the annotation file (things first in COCO's file, like MMDetection's
    ``CocoPanopticDataset``).

    Args:
        ann_file: ``annotations/panoptic_val2017.json``.
        data_prefix: ``dict(img_path='val2017/',
            seg_path='annotations/panoptic_val2017/')``.
        **kwargs: :class:`mmengine.dataset.BaseDataset` arguments.
    """

    METAINFO: dict = dict(classes=(), thing_classes=(), stuff_classes=())

    def prepare_data(self, idx: int) -> Optional[dict]:
        """Run the pipeline; at test time an unreadable image fails."""
        data = super().prepare_data(idx)
        if self.test_mode:
            data = require_test_sample(data, self.get_data_info(idx),
                                       self.ann_file)
        return data

    def load_data_list(self) -> List[dict]:
        """Read images and segments; images without segments are kept out.

        The annotation file and the image and segment folders must exist
        (checked here, when the runner builds the dataset).
        """
        hint = f'data_root is {self.data_root!r}; fix it or the path'
        require_file(self.ann_file, 'ann_file', hint)
        for key in ('img_path', 'seg_path'):
            require_dir(
                self.data_prefix.get(key, ''), f'data_prefix.{key}', hint)
        with open(self.ann_file) as f:
            pan = json.load(f)
        for key in ('images', 'annotations', 'categories'):
            if key not in pan:
                raise ValueError(f'{self.ann_file} has no "{key}": is it a '
                                 'COCO panoptic annotation file?')
        cats = pan['categories']
        cat2label = {c['id']: i for i, c in enumerate(cats)}
        self._metainfo.update(
            classes=tuple(c['name'] for c in cats),
            thing_classes=tuple(c['name'] for c in cats if c['isthing']),
            stuff_classes=tuple(c['name'] for c in cats if not c['isthing']),
            is_thing=tuple(bool(c['isthing']) for c in cats))
        images = {img['id']: img for img in pan['images']}
        img_root = self.data_prefix.get('img_path', '')
        seg_root = self.data_prefix.get('seg_path', '')
        data_list = []
        for ann in pan['annotations']:
            img = images[ann['image_id']]
            segments = [
                dict(
                    id=s['id'],
                    label=cat2label[s['category_id']],
                    bbox=s['bbox'],
                    is_thing=bool(
                        cats[cat2label[s['category_id']]]['isthing']))
                for s in ann['segments_info'] if not s.get('iscrowd', 0)
            ]
            if not segments:
                continue
            data_list.append(
                dict(
                    img_path=osp.join(img_root, img['file_name']),
                    seg_map_path=osp.join(seg_root, ann['file_name']),
                    img_id=img['id'],
                    segments=segments))
        if not data_list:
            raise ValueError(f'no image with segments in {self.ann_file}')
        return data_list
