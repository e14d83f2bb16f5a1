# PC-459 (Pascal Context, all 459 classes) test set of Cat-Seg (segmentation
# facts §2.5): 5104 VOC2010 validation images, 16-bit labels; the release's
# ignore index 459 never occurs. Training and its validation stay
# COCO-Stuff-164k (the base). Build the labels from VOC2010 and the
# full-context annotations with (README, data preparation):
#   python tools/dataset_converters/pascal_context_459.py \
#       data/VOCdevkit/VOC2010 --nproc 8
# Override data_root for another location, e.g.
#   --cfg-options test_dataloader.dataset.data_root=/data/VOCdevkit/VOC2010
_base_ = './catseg_coco_stuff164k.py'

dataset_type = 'mmclipself.PascalContext459Dataset'
data_root = 'data/VOCdevkit/VOC2010/'
test_pipeline = [
    dict(type='LoadImageFromFile'),
    # short side 640 (facts §2.4); the model squashes it to 640x640 for
    # its four windows and takes the global view from this image
    dict(type='ResizeShortestEdge', scale=640, max_size=2560),
    # mmseg's LoadAnnotations casts labels to uint8 (459 classes)
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
        # the samples are the label files (all VOC2010 images are in
        # JPEGImages)
        data_prefix=dict(
            img_path='JPEGImages',
            seg_map_path='annotations_detectron2/pc459_val'),
        pipeline=test_pipeline))
test_evaluator = dict(
    _delete_=True, type='IoUMetric', iou_metrics=['mIoU'], ignore_index=459)
