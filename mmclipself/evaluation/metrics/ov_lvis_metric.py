# Copyright (c) mmclipself contributors. All rights reserved.
"""OV-LVIS detection metric: ``LVISMetric`` under NumPy 2, plus optional
rare (novel) / base AP50."""
import os.path as osp
import tempfile
from typing import Dict, Optional

import numpy as np
from mmdet.evaluation import LVISMetric
from mmengine.logging import MMLogger

from mmclipself.registry import METRICS
from mmclipself.utils.lvis_compat import numpy_float_alias
from .ov_coco_metric import log_split_table, nanmean, per_class_ap50


@METRICS.register_module()
class OVLVISMetric(LVISMetric):
    """OV-LVIS metric: ``LVISMetric`` plus optional rare (novel) / base AP50.

    The headline OV-LVIS number of the CLIPSelf release is ``segm_APr``
    (mask AP over IoU 0.5:0.95 of LVIS v1's rare categories), which
    ``LVISMetric`` already gives; its evaluation runs under
    :func:`mmclipself.utils.lvis_compat.numpy_float_alias` because ``lvis``
    0.5.3 still uses ``np.float``, which NumPy >= 1.24 lacks.

    For each of ``metric='bbox'`` / ``'segm'`` the results hold all of
    ``LVISMetric``'s keys (``bbox_AP``, ``bbox_AP50``, ``bbox_AP75``,
    ``bbox_APs``, ``bbox_APm``, ``bbox_APl``, ``bbox_APr``, ``bbox_APc``,
    ``bbox_APf``; the evaluator prefixes them with ``'lvis/'`` by default)
    and, with ``novel_base_ap50=True``, also ``{metric}_novel_ap50`` and
    ``{metric}_base_ap50``: novel = the categories whose ``frequency`` is
    ``'r'`` in the ground-truth LVIS json, base = all the others (``'c'``
    and ``'f'``). The AP50 of category ``k`` is the mean over recall
    thresholds of ``LVISEval``'s ``eval['precision'][iou=0.5, :, k,
    area='all']`` (``[T, R, K, A]``, lvis has no max-detections axis);
    categories without ground truth are excluded (NaN) and the splits are
    NaN-means. Detections are limited to 300 per image, as ``LVISMetric``
    (``LVISResults``' default) does.

    Args:
        novel_base_ap50: Also compute the novel / base AP50. Off by default
            because it adds an ``LVISEval`` pass per metric (IoU 0.5 and
            area 'all' only, but the IoU matrices are computed again: a few
            minutes on LVIS v1 val). Defaults to False.
        **kwargs: Any :class:`mmdet.evaluation.LVISMetric` argument
            (``ann_file``, ``metric``, ``prefix``, ...).
    """

    def __init__(self, novel_base_ap50: bool = False, **kwargs) -> None:
        super().__init__(**kwargs)
        self.novel_base_ap50 = novel_base_ap50

    def compute_metrics(self, results: list) -> Dict[str, float]:
        """Compute ``LVISMetric``'s metrics (plus the novel/base AP50).

        Args:
            results: The processed results of all batches.

        Returns:
            Dict[str, float]: The metrics.
        """
        with numpy_float_alias():
            # Builds self._lvis_api and self.cat_ids / self.img_ids.
            eval_results = super().compute_metrics(results)
            metrics = [m for m in self.metrics if m in ('bbox', 'segm')]
            if self.novel_base_ap50 and metrics and not self.format_only:
                eval_results.update(self._novel_base_ap50(results, metrics))
        return eval_results

    def _novel_base_ap50(self, results: list,
                         metrics: list) -> Dict[str, float]:
        """Novel / base AP50 from an extra IoU-0.5-only ``LVISEval`` pass.

        ``LVISMetric`` drops its ``LVISEval`` after reading the summary, so
        the per-category precision is not reachable without patching mmdet
        (which this project does not do); it is computed by a second pass
        restricted to what the AP50 needs: IoU 0.5 (vs. 10 thresholds) and
        the 'all' area range (vs. 4, i.e. a quarter of the per-(image,
        category) matching calls, which dominate). The IoU matrices and the
        results json are computed again.

        Args:
            results: The processed results of all batches.
            metrics: ``'bbox'`` and/or ``'segm'``.

        Returns:
            Dict[str, float]: ``{metric}_novel_ap50`` and
            ``{metric}_base_ap50`` per metric with detections.
        """
        logger: MMLogger = MMLogger.get_current_instance()
        _, preds = zip(*results)
        out: Dict[str, float] = {}
        with tempfile.TemporaryDirectory() as tmp_dir:
            result_files = self.results2json(preds,
                                             osp.join(tmp_dir, 'results'))
            for metric in metrics:
                ap_by_cat = self._ap50_per_category(result_files[metric],
                                                    metric)
                if ap_by_cat is None:
                    logger.error(f'No {metric} detections: no novel/base '
                                 'AP50.')
                    continue
                cats = self._lvis_api.cats
                aps = np.array(list(ap_by_cat.values()))
                rare = np.array(
                    [cats[i]['frequency'] == 'r' for i in ap_by_cat])
                rows = []
                for split, mask in (('novel', rare), ('base', ~rare)):
                    key = f'{metric}_{split}_ap50'
                    out[key] = nanmean(aps[mask])
                    rows.append(
                        (split, out[key], int(np.sum(~np.isnan(aps[mask])))))
                log_split_table(metric, rows, logger)
        return out

    def _ap50_per_category(self, result_file: str,
                           iou_type: str) -> Optional[Dict[int, float]]:
        """AP50 (NaN without gt) by category id; ``None`` without
        detections."""
        from lvis import LVISEval, LVISResults

        try:
            # as LVISMetric: at most 300 detections per image
            lvis_dt = LVISResults(self._lvis_api, result_file, max_dets=300)
        except IndexError:
            return None
        lvis_eval = LVISEval(self._lvis_api, lvis_dt, iou_type)
        params = lvis_eval.params
        params.iou_thrs = np.array([0.5])
        params.area_rng = params.area_rng[:1]  # 'all'
        params.area_rng_lbl = params.area_rng_lbl[:1]
        lvis_eval.evaluate()
        lvis_eval.accumulate()
        aps = per_class_ap50(lvis_eval.eval['precision'])
        # the K axis follows params.cat_ids (sorted by LVISEval)
        return dict(zip(params.cat_ids, aps))
