# PC-59 test set of Cat-Seg (segmentation facts §2.5): VOC2010 Pascal
# Context validation images, mmseg's PascalContextDataset59 (background is
# ignored, as in the release). Training and its validation stay
# COCO-Stuff-164k (the base). Build the labels with mmseg's converter
# (needs the Detail API and trainval_merged.json; README, data
# preparation):
#   python $MMSEG/.mim/tools/dataset_converters/pascal_context.py \
#       data/VOCdevkit data/VOCdevkit/VOC2010/trainval_merged.json
# Override data_root for another location, e.g.
#   --cfg-options test_dataloader.dataset.data_root=/data/VOCdevkit/VOC2010
_base_ = './catseg_coco_stuff164k.py'

dataset_type = 'PascalContextDataset59'
data_root = 'data/VOCdevkit/VOC2010/'
test_pipeline = [
    dict(type='LoadImageFromFile'),
    # short side 640 (facts §2.4); the model squashes it to 640x640 for
    # its four windows and takes the global view from this image
    dict(type='ResizeShortestEdge', scale=640, max_size=2560),
    dict(type='LoadAnnotations'),
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
            img_path='JPEGImages', seg_map_path='SegmentationClassContext'),
        ann_file='ImageSets/SegmentationContext/val.txt',
        pipeline=test_pipeline))
test_evaluator = dict(
    _delete_=True, type='IoUMetric', iou_metrics=['mIoU'], ignore_index=255)
