# Copyright (c) mmclipself contributors. All rights reserved.
import mmcv
import numpy as np
from mmcv.transforms import BaseTransform

from mmclipself.registry import TRANSFORMS


@TRANSFORMS.register_module()
class LoadPanopticRegions(BaseTransform):
    """Boxes, masks and labels of panoptic segments, plus teacher crops.

    Reads the panoptic PNG (segment id = R + 256 G + 256^2 B) and turns each
    segment of ``segments`` into a binary mask. ``regions`` are the segment
    boxes (COCO ``[x, y, w, h]`` -> xyxy). ``crop_regions`` follow the
    release's image-crop baseline (reference facts §2): thing boxes enlarged
    ``thing_crop_scale`` (1.5) times around their centre and clipped, stuff
    crops the box of the mask.

    Added keys: ``regions``, ``crop_regions`` (float32 (K, 4)), ``masks``
    (uint8 (K, H, W)), ``gt_labels`` (int64 (K,)), ``is_thing`` (bool (K,)).
    """

    def __init__(self, thing_crop_scale: float = 1.5) -> None:
        self.thing_crop_scale = thing_crop_scale

    def transform(self, results: dict) -> dict:
        h, w = results['img_shape'][:2]
        png = mmcv.imread(
            results['seg_map_path'],
            flag='color',
            channel_order='rgb',
            backend='pillow')
        if png is None:
            raise FileNotFoundError(
                f'panoptic PNG not found: {results["seg_map_path"]}')
        if png.shape[:2] != (h, w):
            raise ValueError(f'{results["seg_map_path"]} is {png.shape[:2]} '
                             f'but the image is {(h, w)}')
        png = png.astype(np.int64)
        ids = png[..., 0] + 256 * png[..., 1] + 256**2 * png[..., 2]
        segs = results['segments']
        masks = np.stack([ids == s['id'] for s in segs]).astype(np.uint8)
        boxes = np.array([s['bbox'] for s in segs], np.float32).reshape(-1, 4)
        boxes[:, 2:] += boxes[:, :2]
        is_thing = np.array([s['is_thing'] for s in segs], bool)
        crops = boxes.copy()
        centre = (boxes[:, :2] + boxes[:, 2:]) / 2
        half = (boxes[:, 2:] - boxes[:, :2]) * self.thing_crop_scale / 2
        big = np.concatenate([centre - half, centre + half], axis=1)
        crops[is_thing] = big[is_thing]
        # stuff: the box of the mask
        rows, cols = masks.any(axis=2), masks.any(axis=1)
        mask_box = np.stack([
            cols.argmax(1),
            rows.argmax(1), w - cols[:, ::-1].argmax(1),
            h - rows[:, ::-1].argmax(1)
        ],
                            axis=1).astype(np.float32)
        stuff = ~is_thing & rows.any(1)
        crops[stuff] = mask_box[stuff]
        crops[:, 0::2] = crops[:, 0::2].clip(0, w)
        crops[:, 1::2] = crops[:, 1::2].clip(0, h)
        results.update(
            regions=boxes,
            crop_regions=crops,
            masks=masks,
            gt_labels=np.array([s['label'] for s in segs], np.int64),
            is_thing=is_thing)
        return results
