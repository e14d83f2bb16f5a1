# Copyright (c) mmclipself contributors. All rights reserved.
from typing import Sequence

from mmseg.evaluation import IoUMetric

from mmclipself.registry import METRICS


@METRICS.register_module()
class BackgroundIoUMetric(IoUMetric):
    """mmseg's ``IoUMetric`` where classes past the dataset's are background.

    Cat-Seg's VOC-20b protocol (``VOCbEvaluator``, segmentation facts
    §2.4): the model scores a vocabulary of 59 classes, the 20 VOC classes
    first and then 39 other PC-59 classes, while the labels hold the 20
    VOC classes and background (index 20). Every predicted index at or past
    the background's (``pred >= 20``) counts as background, and mIoU is
    taken over the 21 dataset classes; pixels labelled ``ignore_index``
    are left out as usual.

    The background is the dataset's last class, named ``background_name``
    (``metainfo['classes']`` ends with ``'background'``, e.g. mmseg's
    ``PascalVOCDataset`` with the 20 VOC classes followed by
    ``'background'``).

    Args:
        background_name: Name of the dataset's last class. Defaults to
            ``'background'``.
        **kwargs: ``IoUMetric`` arguments (``ignore_index``,
            ``iou_metrics`` ...).
    """

    def __init__(self, background_name: str = 'background', **kwargs) -> None:
        super().__init__(**kwargs)
        self.background_name = background_name

    def _background_index(self) -> int:
        """Index of the dataset's last class, checked to be background."""
        classes = list((self.dataset_meta or {}).get('classes') or ())
        if not classes or classes[-1] != self.background_name:
            raise ValueError(
                f'{type(self).__name__}: the dataset\'s last class must be '
                f'{self.background_name!r} (predictions at or past its '
                f'index count as background); got {len(classes)} classes '
                f'ending with {classes[-3:]}')
        return len(classes) - 1

    def process(self, data_batch: dict, data_samples: Sequence[dict]) -> None:
        """Map predictions past the background to it, then mmseg's process.

        The samples are copied (other metrics of the evaluator see the
        model's predictions unchanged).
        """
        background = self._background_index()
        mapped = []
        for sample in data_samples:
            pred = dict(sample['pred_sem_seg'])
            pred['data'] = pred['data'].clamp(max=background)
            mapped.append({**sample, 'pred_sem_seg': pred})
        super().process(data_batch, mapped)
