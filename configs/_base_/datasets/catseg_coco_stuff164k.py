# COCO-Stuff-164k (171 classes): Cat-Seg's training set, and its validation
# set for the evaluation during training (segmentation facts §2.3). Build
# the labels with MMSegmentation's converter, shipped in the mmseg wheel
# (README, data preparation):
#   python $MMSEG/.mim/tools/dataset_converters/coco_stuff164k.py \
#       data/coco_stuff164k --nproc 8
# Cat-Seg's 171 class ids equal mmseg's COCOStuffDataset (facts §2.5).
# Types resolve in MMSegmentation's scope; only mmclipself's carry a prefix.
# Override data_root for another location, e.g.
#   --cfg-options train_dataloader.dataset.data_root=/data/coco_stuff164k
dataset_type = 'COCOStuffDataset'
data_root = 'data/coco_stuff164k/'
crop_size = (384, 384)

# Release augmentation, in its order (facts §2.3, mmseg 1.2.2 equivalents):
# ResizeShortestEdge 384 (max 1333), 384x384 crop without category-area
# constraint, photometric distortion (for detectron2's ColorAugSSD), flip,
# padding to 384 with raw pixel 128 and label 255 (the release pads before
# normalising; the data preprocessor's padding then has nothing to do).
train_pipeline = [
    dict(type='LoadImageFromFile'),
    dict(type='LoadAnnotations'),
    dict(type='ResizeShortestEdge', scale=crop_size[0], max_size=1333),
    dict(type='RandomCrop', crop_size=crop_size, cat_max_ratio=1.0),
    dict(type='PhotoMetricDistortion'),
    dict(type='RandomFlip', prob=0.5),
    dict(
        type='Pad', size=crop_size, pad_val=dict(img=(128, 128, 128),
                                                 seg=255)),
    dict(type='PackSegInputs'),
]
# Release test input (facts §2.4): short side 640 (max 2560); the model
# squashes it to 640x640 for its windows. Labels are loaded after the
# resize and stay at the original size (predictions are resized back).
test_pipeline = [
    dict(type='LoadImageFromFile'),
    # short side 640 (facts §2.4); the model squashes it to 640x640 for
    # its four windows and takes the global view from this image
    dict(type='ResizeShortestEdge', scale=640, max_size=2560),
    dict(type='LoadAnnotations'),
    dict(type='PackSegInputs'),
]
train_dataloader = dict(
    # release: 4 images per iteration in total (4 GPUs x 1). The batch is
    # per GPU: keep 4 in total, e.g. 4 GPUs x 1 (this), 1 GPU x 4, or scale
    # the learning rate with the total.
    batch_size=1,
    num_workers=4,
    persistent_workers=True,
    sampler=dict(type='InfiniteSampler', shuffle=True),
    dataset=dict(
        type=dataset_type,
        data_root=data_root,
        data_prefix=dict(
            img_path='images/train2017', seg_map_path='annotations/train2017'),
        pipeline=train_pipeline))
val_dataloader = dict(
    batch_size=1,
    num_workers=4,
    persistent_workers=True,
    sampler=dict(type='DefaultSampler', shuffle=False),
    dataset=dict(
        type=dataset_type,
        data_root=data_root,
        data_prefix=dict(
            img_path='images/val2017', seg_map_path='annotations/val2017'),
        pipeline=test_pipeline))
test_dataloader = val_dataloader

# 'mIoU' reports aAcc, mIoU and mAcc
val_evaluator = dict(type='IoUMetric', iou_metrics=['mIoU'], ignore_index=255)
test_evaluator = val_evaluator
