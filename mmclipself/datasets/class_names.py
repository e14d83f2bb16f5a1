# Copyright (c) mmclipself contributors. All rights reserved.
"""Class-name vocabularies of the benchmarks, from the installed libraries.

Names come from MMDetection / MMSegmentation dataset metainfo, so nothing is
copied here except the OV-COCO split (48 base + 17 novel classes of Bansal
et al. 2018 / OVR-CNN, the split F-ViT and CLIPSelf report AP50 on).
"""
from typing import Callable, Dict, List, Tuple

#: OV-COCO base classes (48), in COCO order.
COCO_BASE_48 = ('person', 'bicycle', 'car', 'motorcycle', 'train', 'truck',
                'boat', 'bench', 'bird', 'horse', 'sheep', 'bear', 'zebra',
                'giraffe', 'backpack', 'handbag', 'suitcase', 'frisbee',
                'skis', 'kite', 'surfboard', 'bottle', 'fork', 'spoon', 'bowl',
                'banana', 'apple', 'sandwich', 'orange', 'broccoli', 'carrot',
                'pizza', 'donut', 'chair', 'bed', 'toilet', 'tv', 'laptop',
                'mouse', 'remote', 'microwave', 'oven', 'toaster',
                'refrigerator', 'book', 'clock', 'vase', 'toothbrush')
#: OV-COCO novel classes (17), in COCO order.
COCO_NOVEL_17 = ('airplane', 'bus', 'cat', 'dog', 'cow', 'elephant',
                 'umbrella', 'tie', 'snowboard', 'skateboard', 'cup', 'knife',
                 'cake', 'couch', 'keyboard', 'sink', 'scissors')


def _mmdet(name: str) -> Callable[[], Tuple[str, ...]]:

    def get():
        import mmdet.datasets as d
        return tuple(getattr(d, name).METAINFO['classes'])

    return get


def _mmseg(name: str) -> Callable[[], Tuple[str, ...]]:

    def get():
        import mmseg.datasets as d
        return tuple(getattr(d, name).METAINFO['classes'])

    return get


def _coco65() -> Tuple[str, ...]:
    keep = set(COCO_BASE_48) | set(COCO_NOVEL_17)
    return tuple(c for c in _mmdet('CocoDataset')() if c in keep)


_VOCABULARIES: Dict[str, Callable[[], Tuple[str, ...]]] = {
    'coco': _mmdet('CocoDataset'),
    'coco65': _coco65,
    'coco48': lambda: COCO_BASE_48,
    'coco17': lambda: COCO_NOVEL_17,
    'lvis': _mmdet('LVISV1Dataset'),
    'coco_panoptic': _mmdet('CocoPanopticDataset'),
    'objects365': _mmdet('Objects365V1Dataset'),
    'voc': _mmdet('VOCDataset'),
    'ade20k': _mmseg('ADE20KDataset'),
    'pascal_context59': _mmseg('PascalContextDataset59'),
    'pascal_context60': _mmseg('PascalContextDataset'),
}


def list_vocabularies() -> List[str]:
    """Names accepted by :func:`get_class_names`."""
    return sorted(_VOCABULARIES)


def get_class_names(dataset: str) -> Tuple[str, ...]:
    """Class names of a known benchmark.

    Args:
        dataset: One of :func:`list_vocabularies`, e.g. ``'coco65'`` (OV-COCO
            48 base + 17 novel), ``'lvis'`` (1203), ``'coco_panoptic'``
            (133), ``'ade20k'`` (150).

    Raises:
        KeyError: Unknown name; the message lists the known ones.
    """
    if dataset not in _VOCABULARIES:
        raise KeyError(f'unknown vocabulary {dataset!r}; known: '
                       f'{list_vocabularies()}')
    return _VOCABULARIES[dataset]()
