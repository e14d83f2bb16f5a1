# Copyright (c) mmclipself contributors. All rights reserved.
from mmclipself.registry import DATASETS
from .label_folder_seg_dataset import LabelFolderSegDataset
from .vocabulary_metainfo import VocabularyMetainfo


@DATASETS.register_module()
class ADE20K847Dataset(LabelFolderSegDataset):
    """ADE20K-Full validation set with 847 classes (A-847).

    Cat-Seg's ``ade20k_full_sem_seg_freq_val_all`` (segmentation facts
    §2.5): 2000 images of ADE20K 2021 (``ADE20K_2021_17_01``) resized to a
    short side of at most 512, labels 0..846 in frequency order as
    ``uint16`` TIFF, 65535 = ignored. Layout written by
    ``tools/dataset_converters/ade20k_847.py``::

        data_root/images_detectron2/validation/*.jpg
        data_root/annotations_detectron2/validation/*.tif

    Classes are :func:`mmclipself.vocab.get_class_names` ``('ade847')``
    (synonym strings such as ``'building, edifice'``). Load the labels
    with ``mmclipself.LoadSegAnnotations16`` (mmseg's ``LoadAnnotations``
    casts them to ``uint8``) and score with
    ``IoUMetric(ignore_index=65535)``.

    Args:
        img_suffix: Defaults to '.jpg'.
        seg_map_suffix: Defaults to '.tif'.
        ignore_index: Defaults to 65535 (the release's).
        **kwargs: ``BaseSegDataset`` arguments.
    """

    METAINFO = VocabularyMetainfo('ade847')
    PREPARE_HINT = ('build the set with tools/dataset_converters/'
                    'ade20k_847.py (README, data preparation) and check '
                    'data_root and data_prefix')

    def __init__(self,
                 img_suffix: str = '.jpg',
                 seg_map_suffix: str = '.tif',
                 ignore_index: int = 65535,
                 **kwargs) -> None:
        super().__init__(
            img_suffix=img_suffix,
            seg_map_suffix=seg_map_suffix,
            ignore_index=ignore_index,
            **kwargs)
