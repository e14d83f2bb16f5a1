# ADE-847 (ADE20K-Full, 847 classes) test set of Cat-Seg (segmentation facts
# §2.5): 2000 validation images, 16-bit labels, 65535 = ignored. Training
# and its validation stay COCO-Stuff-164k (the base). Build the set from
# the ADE20K 2021 release with (README, data preparation):
#   python tools/dataset_converters/ade20k_847.py \
#       data/ADE20K_2021_17_01 --nproc 8
# Override data_root for another location, e.g.
#   --cfg-options test_dataloader.dataset.data_root=/data/ADE20K_2021_17_01
_base_ = './catseg_coco_stuff164k.py'

dataset_type = 'mmclipself.ADE20K847Dataset'
data_root = 'data/ADE20K_2021_17_01/'
test_pipeline = [
    dict(type='LoadImageFromFile'),
    # short side 640 (facts §2.4); the model squashes it to 640x640 for
    # its four windows and takes the global view from this image
    dict(type='ResizeShortestEdge', scale=640, max_size=2560),
    # mmseg's LoadAnnotations casts labels to uint8 (847 classes, 65535)
    dict(type='mmclipself.LoadSegAnnotations16'),
    dict(type='PackSegInputs'),
]
test_dataloader = dict(
    batch_size=1,
    num_workers=4,
    persistent_workers=True,
    sampler=dict(type='DefaultSampler', shuffle=False),
    dataset=dict(
        _delete_=True,
        type=dataset_type,
        data_root=data_root,
        data_prefix=dict(
            img_path='images_detectron2/validation',
            seg_map_path='annotations_detectron2/validation'),
        pipeline=test_pipeline))
test_evaluator = dict(
    _delete_=True, type='IoUMetric', iou_metrics=['mIoU'], ignore_index=65535)
