# COCO panoptic (133 classes: 80 things, then 53 stuff) for the
# mask-classification segmentors, MMDetection's Mask2Former recipe
# (segmentation facts §4): large-scale jittering at 1024 for training, the
# base test pipeline (Resize 1333x800), PQ/SQ/RQ with CocoPanopticMetric
# (needs panopticapi: `make setup` installs it, requirements/panoptic.txt).
# The batch-level 1024 padding (BatchFixedSizePad) belongs to the model's
# data preprocessor. Data: README "Data preparation". The dataloader and
# evaluator paths below are built from data_root: to move the data, set the
# dataloaders' dataset.data_root and the evaluators' ann_file / seg_prefix.
_base_ = 'mmdet::_base_/datasets/coco_panoptic.py'

data_root = 'data/coco/'
backend_args = None
# the LSJ size (not `image_size`: the model bases define that key, and
# MMEngine allows one base per key)
lsj_size = (1024, 1024)
train_pipeline = [
    dict(type='LoadImageFromFile', to_float32=True, backend_args=backend_args),
    dict(
        type='LoadPanopticAnnotations',
        with_bbox=True,
        with_mask=True,
        with_seg=True,
        backend_args=backend_args),
    dict(type='RandomFlip', prob=0.5),
    # large scale jittering
    dict(
        type='RandomResize',
        scale=lsj_size,
        ratio_range=(0.1, 2.0),
        keep_ratio=True),
    dict(
        type='RandomCrop',
        crop_size=lsj_size,
        crop_type='absolute',
        recompute_bbox=True,
        allow_negative_crop=True),
    dict(type='PackDetInputs')
]
train_dataloader = dict(
    dataset=dict(data_root=data_root, pipeline=train_pipeline))
val_dataloader = dict(dataset=dict(data_root=data_root))
test_dataloader = val_dataloader
val_evaluator = dict(
    type='CocoPanopticMetric',
    ann_file=data_root + 'annotations/panoptic_val2017.json',
    seg_prefix=data_root + 'annotations/panoptic_val2017/',
    backend_args=backend_args)
test_evaluator = val_evaluator
