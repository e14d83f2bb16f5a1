# Copyright (c) mmclipself contributors. All rights reserved.
import numpy as np
import torch
from mmcv.transforms import BaseTransform
from mmengine.structures import BaseDataElement

from mmclipself.registry import TRANSFORMS


@TRANSFORMS.register_module()
class PackRegionInputs(BaseTransform):
    """Pack an image and its regions for :class:`CLIPSelfDataPreprocessor`.

    ``inputs`` is the original-resolution image as a (3, H, W) uint8 tensor
    (colour order as loaded, BGR for mmcv): resizing for the student and
    cropping for the teacher happen batched on the device.
    ``data_samples`` is a ``BaseDataElement`` with ``regions`` and
    ``crop_regions`` (float32 (K, 4) xyxy tensors in original pixels) and
    the meta information ``img_path``, ``img_id``, ``ori_shape``; for region
    recognition also ``masks`` (K, H, W), ``gt_labels`` and ``is_thing``.
    """

    meta_keys = ('img_path', 'img_id', 'ori_shape', 'grid_split')

    def transform(self, results: dict) -> dict:
        img = results['img']
        if img.ndim == 2:
            img = np.repeat(img[..., None], 3, axis=2)
        inputs = torch.from_numpy(np.ascontiguousarray(img.transpose(2, 0, 1)))
        regions = np.asarray(results['regions'], np.float32).reshape(-1, 4)
        if len(regions) == 0:
            raise ValueError(f'{results.get("img_path")}: no region to '
                             'distil; add RandomGridRegions or '
                             'ProposalRegions to the pipeline')
        crop_regions = np.asarray(
            results.get('crop_regions', regions), np.float32).reshape(-1, 4)
        sample = BaseDataElement(
            metainfo={k: results[k]
                      for k in self.meta_keys if k in results})
        sample.regions = torch.from_numpy(regions)
        sample.crop_regions = torch.from_numpy(crop_regions)
        for key in ('masks', 'gt_labels', 'is_thing'):  # recognition eval
            if key in results:
                setattr(sample, key,
                        torch.from_numpy(np.asarray(results[key])))
        return dict(inputs=inputs, data_samples=sample)
