# ADE-150 test set of Cat-Seg (segmentation facts §2.5): the 2000
# ADEChallengeData2016 validation images, mmseg's ADE20KDataset (its
# reduce_zero_label equals the release's png - 1, 0 -> 255). Training and
# its validation stay COCO-Stuff-164k (the base). Download
# ADEChallengeData2016.zip and unzip it under data/ade (README, data
# preparation). Override data_root for another location, e.g.
#   --cfg-options test_dataloader.dataset.data_root=/data/ADEChallengeData2016
_base_ = './catseg_coco_stuff164k.py'

dataset_type = 'ADE20KDataset'
data_root = 'data/ade/ADEChallengeData2016/'
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
            img_path='images/validation',
            seg_map_path='annotations/validation'),
        pipeline=test_pipeline))
test_evaluator = dict(
    _delete_=True, type='IoUMetric', iou_metrics=['mIoU'], ignore_index=255)
