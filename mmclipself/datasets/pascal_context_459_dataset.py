# Copyright (c) mmclipself contributors. All rights reserved.
from mmclipself.registry import DATASETS
from .label_folder_seg_dataset import LabelFolderSegDataset
from .vocabulary_metainfo import VocabularyMetainfo


@DATASETS.register_module()
class PascalContext459Dataset(LabelFolderSegDataset):
    """Pascal Context validation set with all 459 classes (PC-459).

    Cat-Seg's ``context_459_test_sem_seg`` (segmentation facts §2.5): the
    5104 validation images of VOC2010, labels 0..458 (the full-context
    ``LabelMap`` minus one, ``'unknown'`` included) as 16-bit TIFF; the
    release's ignore index 459 never occurs. Images stay in VOC2010's
    ``JPEGImages`` (all of them); the samples are the label files
    written by ``tools/dataset_converters/pascal_context_459.py``::

        data_root/JPEGImages/*.jpg
        data_root/annotations_detectron2/pc459_val/*.tif

    Classes are :func:`mmclipself.vocab.get_class_names` ``('pc459')``.
    Load the labels with ``mmclipself.LoadSegAnnotations16`` and score with
    ``IoUMetric(ignore_index=459)``.

    Args:
        img_suffix: Defaults to '.jpg'.
        seg_map_suffix: Defaults to '.tif'.
        ignore_index: Defaults to 459 (the release's).
        **kwargs: ``BaseSegDataset`` arguments.
    """

    METAINFO = VocabularyMetainfo('pc459')
    PREPARE_HINT = ('build the labels with tools/dataset_converters/'
                    'pascal_context_459.py (README, data preparation) and '
                    'check data_root and data_prefix')

    def __init__(self,
                 img_suffix: str = '.jpg',
                 seg_map_suffix: str = '.tif',
                 ignore_index: int = 459,
                 **kwargs) -> None:
        super().__init__(
            img_suffix=img_suffix,
            seg_map_suffix=seg_map_suffix,
            ignore_index=ignore_index,
            **kwargs)
