# Copyright (c) mmclipself contributors. All rights reserved.
"""OV-COCO detection metric: novel / base AP50 on top of ``CocoMetric``."""
import os.path as osp
import tempfile
from typing import Dict, List, Optional, Sequence, Tuple, Union

import numpy as np
from mmdet.datasets.api_wrappers import COCOeval
from mmdet.evaluation import CocoMetric
from mmengine.logging import MMLogger
from terminaltables import AsciiTable

from mmclipself.registry import METRICS
from mmclipself.vocab import get_class_names


def per_class_ap50(precision: np.ndarray) -> np.ndarray:
    """Per-class AP50 from a precision table accumulated at IoU 0.5 only.

    Follows the CLIPSelf release protocol: the mean of the precision over
    all recall thresholds at the (single) IoU threshold 0.5, area range
    'all' (index 0) and, for pycocotools' 5-d table, the last (largest)
    max-detections entry. Entries ``-1`` (classes without ground truth) are
    excluded, so such a class gets NaN.

    Args:
        precision: ``eval['precision']`` of an evaluator run with
            ``iouThrs == [0.5]``: ``[1, R, K, A, M]`` (pycocotools) or
            ``[1, R, K, A]`` (lvis, which has no max-detections axis).

    Returns:
        np.ndarray: ``(K,)`` AP50 per class, NaN where there is no gt.
    """
    table = precision[0, :, :, 0]
    if table.ndim == 3:
        table = table[..., -1]
    aps = np.full(table.shape[1], np.nan)
    for k in range(table.shape[1]):
        valid = table[:, k][table[:, k] > -1]
        if valid.size:
            aps[k] = float(valid.mean())
    return aps


def nanmean(values: Sequence[float]) -> float:
    """Mean ignoring NaN; NaN (without a warning) when nothing is left."""
    values = np.asarray(list(values), dtype=float)
    values = values[~np.isnan(values)]
    return float(values.mean()) if values.size else float('nan')


def log_split_table(metric: str, rows: Sequence[Tuple[str, float, int]],
                    logger: MMLogger) -> None:
    """Log ``(split, AP50, number of classes with gt)`` rows as a table."""
    table = [[f'{metric} split', 'AP50', 'classes with gt']]
    table += [[name, f'{ap:.4f}', str(n)] for name, ap, n in rows]
    logger.info('\n' + AsciiTable(table).table)


def _resolve_names(names: Union[str, Sequence[str]]) -> Tuple[str, ...]:
    if isinstance(names, str):
        return tuple(get_class_names(names))
    return tuple(names)


@METRICS.register_module()
class OVCocoMetric(CocoMetric):
    """OV-COCO metric: ``CocoMetric`` plus novel / base / all AP50.

    Follows the CLIPSelf (F-ViT) release protocol for OV-COCO: the AP50 of
    class ``k`` is ``precision[iou=0.5, :, k, area='all', maxDets[-1]]`` of
    pycocotools' ``COCOeval`` averaged over the recall thresholds, with
    ``maxDets = proposal_nums = (100, 300, 1000)`` (so 1000 detections per
    image count); classes without ground truth are excluded (NaN), and
    ``novel_ap50`` / ``base_ap50`` / ``all_ap50`` are the NaN-means over the
    novel names, the base names and all the dataset's classes. They come
    from a second, IoU-0.5-only ``COCOeval`` pass over the detections
    (written by ``results2json`` to a temporary directory) after
    ``CocoMetric.compute_metrics``; see :meth:`_ap50_per_class`.

    For each of ``metric='bbox'`` / ``'segm'`` the results hold all of
    ``CocoMetric``'s keys (``bbox_mAP``, ``bbox_mAP_50``, ...) plus
    ``{metric}_novel_ap50``, ``{metric}_base_ap50`` and ``{metric}_all_ap50``
    (the evaluator prefixes them with ``'coco/'`` by default).

    Args:
        novel_classes: Novel class names, or a vocabulary name understood by
            :func:`mmclipself.vocab.get_class_names`.
            Defaults to ``'coco17'``.
        base_classes: Base class names or a vocabulary name. Defaults to
            ``'coco48'``.
        proposal_nums: ``COCOeval`` ``maxDets``; the largest one is used
            for the AP50 splits. Defaults to ``(100, 300, 1000)``.
        **kwargs: Any other :class:`mmdet.evaluation.CocoMetric` argument
            (``ann_file``, ``metric``, ``iou_thrs``, ``prefix``, ...).

    Raises:
        ValueError: ``novel_classes`` and ``base_classes`` overlap, the IoU
            thresholds lack 0.5, or (once the dataset meta is set) some of
            the names are not among the dataset's classes.
    """

    def __init__(self,
                 novel_classes: Union[str, Sequence[str]] = 'coco17',
                 base_classes: Union[str, Sequence[str]] = 'coco48',
                 proposal_nums: Sequence[int] = (100, 300, 1000),
                 **kwargs) -> None:
        super().__init__(proposal_nums=proposal_nums, **kwargs)
        self.novel_classes = _resolve_names(novel_classes)
        self.base_classes = _resolve_names(base_classes)
        both = sorted(set(self.novel_classes) & set(self.base_classes))
        if both:
            raise ValueError(f'classes both novel and base: {both}')
        # the split AP50 always use IoU 0.5; requiring it in iou_thrs keeps
        # CocoMetric's mAP_50 defined (not -1) as their overall counterpart
        if not np.isclose(np.atleast_1d(self.iou_thrs), 0.5).any():
            raise ValueError('OVCocoMetric needs IoU 0.5 in iou_thrs, got '
                             f'{self.iou_thrs}')

    @property
    def dataset_meta(self) -> Optional[dict]:
        """Optional[dict]: Meta info of the dataset."""
        return self._dataset_meta

    @dataset_meta.setter
    def dataset_meta(self, dataset_meta: dict) -> None:
        """Set the dataset meta, checking the split names against it."""
        self._dataset_meta = dataset_meta
        self._check_split_names()

    def _check_split_names(self) -> None:
        classes = set((self.dataset_meta or {}).get('classes', ()))
        if not classes:
            return
        missing = [
            c for c in self.novel_classes + self.base_classes
            if c not in classes
        ]
        if missing:
            raise ValueError(
                f'{type(self).__name__}: novel/base class names not among '
                f'the dataset\'s {len(classes)} classes: {missing}')

    def compute_metrics(self, results: list) -> Dict[str, float]:
        """Compute ``CocoMetric``'s metrics plus the novel/base/all AP50.

        Args:
            results: The processed results of all batches.

        Returns:
            Dict[str, float]: The metrics.
        """
        self._check_split_names()
        # Builds self._coco_api (from ann_file, or from the gts when
        # ann_file is None) and self.cat_ids / self.img_ids.
        eval_results = super().compute_metrics(results)
        metrics = [m for m in self.metrics if m in ('bbox', 'segm')]
        if self.format_only or not metrics:
            return eval_results
        logger: MMLogger = MMLogger.get_current_instance()
        _, preds = zip(*results)
        with tempfile.TemporaryDirectory() as tmp_dir:
            result_files = self.results2json(preds,
                                             osp.join(tmp_dir, 'results'))
            for metric in metrics:
                ap_by_name = self._ap50_per_class(result_files[metric], metric,
                                                  logger)
                if ap_by_name is not None:
                    eval_results.update(
                        self._split_ap50(metric, ap_by_name, logger))
        return eval_results

    def _ap50_per_class(self, result_file: str, iou_type: str,
                        logger: MMLogger) -> Optional[Dict[str, float]]:
        """AP50 per class name from a ``COCOeval`` pass at IoU 0.5 only.

        ``CocoMetric`` builds its ``COCOeval`` inside ``compute_metrics`` and
        drops it after reading the summary, so its per-class precision is
        not reachable without patching mmdet (which this project does not
        do). A second pass restricted to what the AP50 needs is cheaper than
        the first: one IoU threshold (vs. 10) and the 'all' area range
        (vs. 4). pycocotools' per-(image, class) matching cost is mostly
        fixed overhead, so the area restriction (a quarter of the
        ``evaluateImg`` calls) saves more than the IoU one; the IoU matrices
        and the results json are computed again. On a synthetic 300-image,
        65-class set with 100 boxes per image it costs about half of
        ``CocoMetric``'s evaluation.

        Args:
            result_file: The detections json written by ``results2json``.
            iou_type: ``'bbox'`` or ``'segm'``.
            logger: Logger.

        Returns:
            Optional[Dict[str, float]]: AP50 (NaN without gt) by class name,
            in the order of the evaluated category ids; ``None`` when there
            are no detections at all.
        """
        try:
            # the segm json also holds boxes, which pycocotools then uses for
            # the detection areas: that only matters for the small / medium /
            # large ranges, not for 'all'
            coco_dt = self._coco_api.loadRes(result_file)
        except IndexError:
            logger.error(f'No {iou_type} detections: no novel/base AP50.')
            return None
        coco_eval = COCOeval(self._coco_api, coco_dt, iou_type)
        params = coco_eval.params
        params.catIds = list(self.cat_ids)
        params.imgIds = list(self.img_ids)
        params.iouThrs = np.array([0.5])
        params.maxDets = sorted(self.proposal_nums)
        params.areaRng = params.areaRng[:1]  # 'all'
        params.areaRngLbl = params.areaRngLbl[:1]
        coco_eval.evaluate()
        coco_eval.accumulate()
        aps = per_class_ap50(coco_eval.eval['precision'])
        # the K axis follows params.catIds (sorted by evaluate())
        names = [self._coco_api.cats[i]['name'] for i in params.catIds]
        return dict(zip(names, aps))

    def _split_ap50(self, metric: str, ap_by_name: Dict[str, float],
                    logger: MMLogger) -> Dict[str, float]:
        splits: List[Tuple[str,
                           Sequence[str]]] = [('novel', self.novel_classes),
                                              ('base', self.base_classes),
                                              ('all', list(ap_by_name))]
        out, rows = {}, []
        for split, names in splits:
            aps = [ap_by_name.get(n, float('nan')) for n in names]
            out[f'{metric}_{split}_ap50'] = nanmean(aps)
            rows.append((split, out[f'{metric}_{split}_ap50'],
                         int(np.sum(~np.isnan(aps)))))
        log_split_table(metric, rows, logger)
        return out
