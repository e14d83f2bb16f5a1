# Copyright (c) mmclipself contributors. All rights reserved.
import json
import logging
import os
import os.path as osp
from collections import defaultdict
from typing import Dict, List, Optional

import numpy as np
from mmengine.dataset import BaseDataset
from mmengine.logging import print_log

from mmclipself.registry import DATASETS
from .checks import (require_all_exist, require_file, require_readable_image,
                     require_test_sample)

IMG_EXTENSIONS = ('.jpg', '.jpeg', '.png', '.bmp', '.webp', '.tif', '.tiff')


@DATASETS.register_module()
class ImageRegionDataset(BaseDataset):
    """Unlabelled images for CLIPSelf self-distillation (paper §3.2, A.2).

    CLIPSelf needs images only: regions come from a grid (paper §3.2) or
    from region proposals. Three image sources are read:

    - a COCO-style JSON (``ann_file`` ending in ``.json``): its ``images``
      list; ``file_name`` (COCO train2017) or ``<folder>/<file>`` of
      ``coco_url`` (LVIS v1, whose images live in COCO's ``train2017/`` and
      ``val2017/``) under ``data_prefix['img_path']``. Annotations are
      ignored;
    - a text file list (``.txt``, one path per line relative to
      ``data_prefix['img_path']``), e.g. a CC3M subset (paper Table 8);
    - an image folder (no ``ann_file``): every image file under
      ``data_prefix['img_path']``, recursively, in sorted order.

    With ``proposal_file`` each image gets the boxes of a COCO-results-style
    JSON (``[{"image_id" or "file_name", "bbox": [x, y, w, h], "score"}]``)
    as ``proposals`` (xyxy). Images without proposals are dropped with a
    warning that says how many (``filter_empty_proposals``).

    Args:
        proposal_file: Optional proposals JSON (relative to ``data_root``).
        filter_empty_proposals: Drop images that have no proposal.
        **kwargs: :class:`mmengine.dataset.BaseDataset` arguments
            (``ann_file``, ``data_root``, ``data_prefix``, ``pipeline``,
            ``test_mode``, ``indices``, ...).
    """

    METAINFO: dict = dict(classes=())

    def __init__(self,
                 *args,
                 proposal_file: Optional[str] = None,
                 filter_empty_proposals: bool = True,
                 data_prefix: dict = dict(img_path=''),
                 **kwargs) -> None:
        self.proposal_file = proposal_file
        self.filter_empty_proposals = filter_empty_proposals
        super().__init__(*args, data_prefix=data_prefix, **kwargs)

    def _source(self) -> str:
        return self.ann_file or self._img_root()

    def prepare_data(self, idx: int) -> Optional[dict]:
        """Run the pipeline; at test time an unreadable image fails."""
        data = super().prepare_data(idx)
        if self.test_mode:
            data = require_test_sample(data, self.get_data_info(idx),
                                       self._source())
        return data

    def load_data_list(self) -> List[dict]:
        """Read the image list (and proposals) of the chosen source.

        Checked here, when the runner builds the dataset: the annotation
        file or image folder exists, at least one image is readable (and
        at test time every image exists), the proposal file exists, is
        well formed and has boxes for the images.
        """
        if self.ann_file and self.ann_file.endswith(('.json', '.txt')):
            require_file(
                self.ann_file, 'ann_file',
                f'data_root is {self.data_root!r}; fix ann_file or data_root')
        return self._load_data_list()

    def _img_root(self) -> str:
        return self.data_prefix.get('img_path', '') or self.data_root or ''

    def _from_json(self) -> List[dict]:
        with open(self.ann_file) as f:
            coco = json.load(f)
        if 'images' not in coco:
            raise ValueError(f'{self.ann_file} has no "images" list; is it a '
                             'COCO/LVIS annotation file?')
        data_list = []
        for img in coco['images']:
            # LVIS lists COCO images by URL; they live in COCO's train2017/
            # and val2017/ folders, so keep '<folder>/<file>'.
            url = img.get('coco_url', '')
            name = img.get('file_name') or '/'.join(url.split('/')[-2:])
            if not name:
                raise ValueError(f'{self.ann_file}: image {img.get("id")} has '
                                 'neither file_name nor coco_url')
            data_list.append(
                dict(
                    img_path=osp.join(self._img_root(), name),
                    img_id=img.get('id'),
                    file_name=name))
        return data_list

    def _from_txt(self) -> List[dict]:
        with open(self.ann_file) as f:
            names = [line.strip() for line in f if line.strip()]
        return [
            dict(
                img_path=osp.join(self._img_root(), n), img_id=i, file_name=n)
            for i, n in enumerate(names)
        ]

    def _from_folder(self) -> List[dict]:
        root = self._img_root()
        if not osp.isdir(root):
            raise FileNotFoundError(
                f'image folder not found: {root!r}; fix data_root or '
                "data_prefix['img_path']")
        names = []
        for dirpath, _, files in os.walk(root):
            for f in files:
                if f.lower().endswith(IMG_EXTENSIONS):
                    names.append(osp.relpath(osp.join(dirpath, f), root))
        return [
            dict(img_path=osp.join(root, n), img_id=i, file_name=n)
            for i, n in enumerate(sorted(names))
        ]

    def _load_proposals(self) -> Dict[object, np.ndarray]:
        path = self.proposal_file
        if self.data_root and not osp.isabs(path):
            path = osp.join(self.data_root, path)
        require_file(
            path, 'proposal_file',
            'write one with tools/misc/dump_proposals.py or fix proposal_file')
        try:
            with open(path) as f:
                records = json.load(f)
        except ValueError as e:
            raise ValueError(f'proposal file {path!r} is not valid JSON '
                             f'({e}); is it truncated?') from None
        if isinstance(records, dict) and 'annotations' in records:
            records = records['annotations']
        fmt = ('expected a COCO-results-style list of '
               '{"image_id" or "file_name", "bbox": [x, y, w, h]}')
        if not isinstance(records, list):
            raise ValueError(f'proposal file {path!r}: {fmt}, got a '
                             f'{type(records).__name__}')
        boxes = defaultdict(list)
        for i, r in enumerate(records):
            key = r.get('image_id', r.get('file_name')) \
                if isinstance(r, dict) else None
            bbox = r.get('bbox') if isinstance(r, dict) else None
            if key is None or not isinstance(bbox, (list, tuple)) or \
                    len(bbox) != 4:
                raise ValueError(f'proposal file {path!r}, record {i}: '
                                 f'{fmt}, got {r!r:.120}')
            x, y, w, h = bbox
            boxes[key].append([x, y, x + w, y + h])
        return {
            k: np.asarray(v, np.float32).reshape(-1, 4)
            for k, v in boxes.items()
        }

    def _load_data_list(self) -> List[dict]:
        if self.ann_file and self.ann_file.endswith('.json'):
            data_list = self._from_json()
        elif self.ann_file and self.ann_file.endswith('.txt'):
            data_list = self._from_txt()
        elif self.ann_file:
            raise ValueError(f'unsupported ann_file {self.ann_file}: use a '
                             'COCO/LVIS .json, a .txt file list or no '
                             'ann_file for an image folder')
        else:
            data_list = self._from_folder()
        source = self._source()
        if not data_list:
            raise ValueError(f'no images found in {source!r}')
        paths = [d['img_path'] for d in data_list]
        if self.test_mode:
            require_all_exist(paths, source)
        require_readable_image(paths, source)
        if self.proposal_file:
            proposals = self._load_proposals()
            kept = []
            for info in data_list:
                key = info['img_id'] if info['img_id'] in proposals else \
                    info['file_name']
                info['proposals'] = proposals.get(key,
                                                  np.zeros((0, 4), np.float32))
                if len(info['proposals']) or not self.filter_empty_proposals:
                    kept.append(info)
            if len(kept) < len(data_list):
                print_log(
                    f'{len(data_list) - len(kept)} of {len(data_list)} '
                    f'images have no proposal in {self.proposal_file} and '
                    'are skipped',
                    logger='current',
                    level=logging.WARNING)
            if not kept:
                first = data_list[0]
                raise ValueError(
                    f'no image of {source!r} has a proposal in '
                    f'{self.proposal_file}: its records are keyed by '
                    f'{list(proposals)[:3]}, the images by image_id '
                    f'{first["img_id"]!r} or file_name '
                    f'{first["file_name"]!r}; was it made for these images?')
            data_list = kept
        return data_list
