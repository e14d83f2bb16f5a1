# Copyright (c) mmclipself contributors. All rights reserved.
"""Class lists: the benchmarks (from the installed libraries) and user files.

Benchmark names come from MMDetection / MMSegmentation dataset metainfo, so
nothing is copied here except the OV-COCO split (48 base + 17 novel classes
of Bansal et al. 2018 / OVR-CNN, the split F-ViT and CLIPSelf report AP50
on).

A class name may hold comma-separated synonyms (``'building, edifice'``, the
style of the ADE-847 lists of Cat-Seg); the encoder averages them per prompt
template (:func:`mmclipself.vocab.embed_class_names`).
"""
import os.path as osp
from typing import Callable, Dict, List, Tuple

#: Name of the classifier's background entry (F-ViT, reference facts §1).
BACKGROUND = 'background'

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


def _voc20() -> Tuple[str, ...]:
    """The 20 VOC classes, background dropped (Cat-Seg VOC-20)."""
    return _mmseg('PascalVOCDataset')()[1:]


def _voc20b() -> Tuple[str, ...]:
    """VOC-20b: the 20 VOC classes + the 39 other PC-59 classes.

    Follows Cat-Seg's ``voc20b`` list (segmentation facts §2.1): the model
    scores 59 classes and every prediction past the 20 VOC classes counts
    as background. PC-59's ``'table'`` is VOC's ``'diningtable'``. The 39
    extra classes are in PC-59 order here (the release lists them in
    another order; Cat-Seg treats classes alike whatever their order, and
    all 39 map to background, so scores agree).
    """
    voc = _voc20()
    return voc + tuple(
        c for c in _mmseg('PascalContextDataset59')()
        if c not in voc and c != 'table')


#: Lists shipped with the package: ``data/<name>.txt``, one entry a line,
#: ``#`` lines are the header (source and licence of the list).
DATA_DIR = osp.join(osp.dirname(osp.abspath(__file__)), 'data')


def read_packaged_list(name: str) -> List[str]:
    """The entries of ``mmclipself/vocab/data/<name>.txt``, in order.

    Args:
        name: File stem, e.g. ``'ade847'``, ``'pc459'`` or
            ``'ade847_ade20k_ids'`` (the ADE-847 label table).
    """
    path = osp.join(DATA_DIR, f'{name}.txt')
    with open(path, encoding='utf-8') as f:
        lines = [line.strip() for line in f if not line.startswith('#')]
    return [line for line in lines if line]


def _packaged(name: str) -> Callable[[], Tuple[str, ...]]:
    """A class list shipped with the package (Cat-Seg's A-847, PC-459)."""
    return lambda: tuple(
        check_class_names(read_packaged_list(name), f'{name}.txt'))


_VOCABULARIES: Dict[str, Callable[[], Tuple[str, ...]]] = {
    'coco': _mmdet('CocoDataset'),
    'coco65': _coco65,
    'coco48': lambda: COCO_BASE_48,
    'coco17': lambda: COCO_NOVEL_17,
    'lvis': _mmdet('LVISV1Dataset'),
    'coco_panoptic': _mmdet('CocoPanopticDataset'),
    'objects365': _mmdet('Objects365V1Dataset'),
    'voc': _mmdet('VOCDataset'),
    # ADE-150 in three orders (segmentation facts §4): semantic (mmseg's
    # and mmdet's ADE20KSegDataset order), panoptic (100 things first, then
    # 50 stuff, names with synonyms) and instance (the 100 things).
    'ade20k': _mmseg('ADE20KDataset'),
    'ade20k_panoptic': _mmdet('ADE20KPanopticDataset'),
    'ade20k_instance': _mmdet('ADE20KInstanceDataset'),
    'pascal_context59': _mmseg('PascalContextDataset59'),
    'pascal_context60': _mmseg('PascalContextDataset'),
    'coco_stuff': _mmseg('COCOStuffDataset'),
    'voc20': _voc20,
    'voc20b': _voc20b,
    'ade847': _packaged('ade847'),
    'pc459': _packaged('pc459'),
}


def list_vocabularies() -> List[str]:
    """Names accepted by :func:`get_class_names`."""
    return sorted(_VOCABULARIES)


def get_class_names(dataset: str) -> Tuple[str, ...]:
    """Class names of a known benchmark.

    Args:
        dataset: One of :func:`list_vocabularies`, e.g. ``'coco65'`` (OV-COCO
            48 base + 17 novel), ``'lvis'`` (1203), ``'coco_panoptic'``
            (133), ``'ade20k'`` (150, semantic order),
            ``'ade20k_panoptic'`` (150, things first),
            ``'ade20k_instance'`` (the 100 things), ``'ade847'``
            (ADE20K-full, Cat-Seg's frequency order, with synonyms),
            ``'pc459'`` (PASCAL-Context full set).

    Raises:
        KeyError: Unknown name; the message lists the known ones.
    """
    if dataset not in _VOCABULARIES:
        raise KeyError(f'unknown vocabulary {dataset!r}; known: '
                       f'{list_vocabularies()}')
    return _VOCABULARIES[dataset]()


def split_synonyms(name: str) -> List[str]:
    """The comma-separated synonyms of a class name, stripped.

    ``'building, edifice'`` -> ``['building', 'edifice']``; a name without a
    comma is its only synonym.

    Raises:
        ValueError: A synonym is empty (``'cat,,dog'``, ``' '``).
    """
    synonyms = [s.strip() for s in str(name).split(',')]
    if not all(synonyms):
        raise ValueError(f'class name {name!r} has an empty synonym')
    return synonyms


def check_class_names(names: List[str], source: str) -> List[str]:
    """Fail on an empty list or repeated names; return ``names``.

    Args:
        names: Class names in order.
        source: What they came from, for the error message (a file name).

    Raises:
        ValueError: The list is empty or a name repeats (listed).
    """
    if not names:
        raise ValueError(f'{source}: the vocabulary is empty')
    seen, repeated = set(), []
    for n in names:
        if n in seen and n not in repeated:
            repeated.append(n)
        seen.add(n)
    if repeated:
        raise ValueError(f'{source}: duplicate class names {repeated[:10]}')
    return names


def read_class_file(path: str) -> List[str]:
    """Read a user's class file: one class per line.

    A line may hold comma-separated synonyms (``building, edifice``); it is
    one class, named by the whole stripped line. Blank lines are skipped.

    Args:
        path: A text file.

    Returns:
        The class names in file order.

    Raises:
        FileNotFoundError: The file does not exist.
        ValueError: It lists no class, repeats one, or a line has an empty
            synonym (the message names the file and line).
    """
    if not osp.isfile(path):
        raise FileNotFoundError(f'class list not found: {path}')
    names = []
    with open(path, encoding='utf-8') as f:
        for i, line in enumerate(f, 1):
            line = line.strip()
            if not line:
                continue
            try:
                split_synonyms(line)
            except ValueError as e:
                raise ValueError(f'{path}:{i}: {e}') from None
            names.append(line)
    return check_class_names(names, path)
