# Copyright (c) mmclipself contributors. All rights reserved.
import mmcv
import mmengine.fileio as fileio
import numpy as np
from mmseg.datasets.transforms import LoadAnnotations

from mmclipself.registry import TRANSFORMS


@TRANSFORMS.register_module()
class LoadSegAnnotations16(LoadAnnotations):
    """mmseg's ``LoadAnnotations`` that keeps 16-bit labels.

    mmseg 1.2.2 casts every label map to ``uint8``, which turns the labels
    of ADE-847 (0..846, ignore 65535) and PC-459 (0..458) into others
    (300 -> 44, 65535 -> 255) without any error (segmentation facts §2.5,
    "16-bit label pitfall"). This loader reads the map unchanged, so a
    ``uint16`` TIFF stays ``uint16`` (``PackSegInputs`` casts it to int64
    and ``IoUMetric(ignore_index=65535)`` scores it). Everything else is
    mmseg's: ``reduce_zero_label`` (0 and 255 become 255, the others drop
    by one; meant for 8-bit maps) and the dataset's ``label_map``.

    A label map that cannot be read or decoded, or that has more than one
    channel, raises an error naming the file.

    Args:
        reduce_zero_label: As mmseg's (deprecated there; set it on the
            dataset). Defaults to None (the dataset's).
        backend_args: File backend arguments. Defaults to None.
        imdecode_backend: ``mmcv.imfrombytes`` backend; ``'pillow'`` and
            ``'cv2'`` both read 16-bit TIFF and PNG. Defaults to 'pillow'.
    """

    def _read_seg_map(self, path: str) -> np.ndarray:
        """The label map of ``path`` in its stored dtype, (H, W)."""
        try:
            data = fileio.get(path, backend_args=self.backend_args)
        except FileNotFoundError:
            raise FileNotFoundError(
                f'label map not found: {path!r}; check data_root and '
                "data_prefix['seg_map_path'] of the dataset") from None
        try:
            seg = mmcv.imfrombytes(
                data, flag='unchanged', backend=self.imdecode_backend)
        except Exception as e:  # decoders raise many types
            raise ValueError(f'cannot decode label map {path!r} with '
                             f'imdecode_backend={self.imdecode_backend!r}: '
                             f'{type(e).__name__}: {e}') from None
        if seg is None or seg.size == 0:
            raise ValueError(f'cannot decode label map {path!r} with '
                             f'imdecode_backend={self.imdecode_backend!r}')
        seg = seg.squeeze()
        if seg.ndim != 2:
            raise ValueError(f'label map {path!r} has shape {seg.shape}; a '
                             'label map has one channel of class indices')
        return seg

    def _load_seg_map(self, results: dict) -> None:
        """Load ``results['seg_map_path']`` into ``results['gt_seg_map']``.

        Same steps as mmseg's, without the ``uint8`` cast.
        """
        seg = self._read_seg_map(results['seg_map_path'])
        if self.reduce_zero_label is None:
            self.reduce_zero_label = results['reduce_zero_label']
        if self.reduce_zero_label != results['reduce_zero_label']:
            raise ValueError(
                f'{type(self).__name__}(reduce_zero_label='
                f'{self.reduce_zero_label}) but the dataset has '
                f'reduce_zero_label={results["reduce_zero_label"]}; set it '
                'on the dataset only')
        if self.reduce_zero_label:  # mmseg's rule, in the map's dtype
            ignored = (seg == 0) | (seg == 255)
            seg = seg - 1
            seg[ignored] = 255
        label_map = results.get('label_map', None)
        if label_map is not None:
            old = seg.copy()
            for old_id, new_id in label_map.items():
                seg[old == old_id] = new_id
        results['gt_seg_map'] = seg
        results['seg_fields'].append('gt_seg_map')
