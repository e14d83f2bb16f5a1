# Copyright (c) mmclipself contributors. All rights reserved.
"""A tiny COCO-panoptic set on real photos with hand-made segments."""
import json
import os.path as osp
import shutil

import numpy as np
from PIL import Image

CATEGORIES = [
    dict(id=17, name='cat', isthing=1),
    dict(id=47, name='cup', isthing=1),
    dict(id=171, name='wall-other-merged', isthing=0),
    dict(id=189, name='table-merged', isthing=0),
]
# (photo, [(segment id, category id, (y1, y2, x1, x2), iscrowd)])
SEGMENTS = [
    ('chelsea.png', [(1, 17, (48, 240, 96, 352), 0),
                     (2, 171, (0, 48, 0, 451), 0)]),
    ('coffee.png', [(3, 47, (96, 304, 160, 448), 0),
                    (4, 189, (304, 400, 0, 600), 0),
                    (5, 17, (0, 40, 0, 40), 1)]),
]


def write_tiny_panoptic(root):
    """Write images, PNGs and panoptic_val.json under ``root``."""
    import skimage.data
    (root / 'images').mkdir(parents=True)
    (root / 'pan').mkdir()
    images, annotations = [], []
    for img_id, (name, segs) in enumerate(SEGMENTS, start=1):
        shutil.copy(
            osp.join(skimage.data.data_dir, name), root / 'images' / name)
        w, h = Image.open(root / 'images' / name).size
        ids = np.zeros((h, w), np.int64)
        infos = []
        for sid, cat, (y1, y2, x1, x2), crowd in segs:
            ids[y1:y2, x1:x2] = sid
            infos.append(
                dict(
                    id=sid,
                    category_id=cat,
                    iscrowd=crowd,
                    bbox=[x1, y1, x2 - x1, y2 - y1],
                    area=(y2 - y1) * (x2 - x1)))
        rgb = np.stack([ids % 256, ids // 256 % 256, ids // 65536],
                       axis=-1).astype(np.uint8)
        png = name.rsplit('.', 1)[0] + '_pan.png'
        Image.fromarray(rgb).save(root / 'pan' / png)
        images.append(dict(id=img_id, file_name=name, height=h, width=w))
        annotations.append(
            dict(image_id=img_id, file_name=png, segments_info=infos))
    (root / 'panoptic_val.json').write_text(
        json.dumps(
            dict(
                images=images, annotations=annotations,
                categories=CATEGORIES)))
    return dict(
        data_root=str(root),
        ann_file='panoptic_val.json',
        data_prefix=dict(img_path='images/', seg_path='pan/'))
