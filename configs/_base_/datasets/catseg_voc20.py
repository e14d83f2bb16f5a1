# VOC-20 test set of Cat-Seg (segmentation facts §2.5): the 1449 VOC2012
# segmentation validation images, the 20 object classes, background
# ignored. mmseg's PascalVOCDataset with the 20 classes as its metainfo
# gives the release's labels: background 0 -> 255, class k -> k - 1.
# Training and its validation stay COCO-Stuff-164k (the base). Download
# VOCtrainval_11-May-2012.tar and untar it under data (README, data
# preparation). The release reads the masks from SegmentationClassAug
# (written by mmseg's voc_aug converter); to read them from there, set
# test_dataloader.dataset.data_prefix.seg_map_path='SegmentationClassAug'.
# Override data_root for another location, e.g.
#   --cfg-options test_dataloader.dataset.data_root=/data/VOCdevkit/VOC2012
_base_ = './catseg_coco_stuff164k.py'

dataset_type = 'PascalVOCDataset'
data_root = 'data/VOCdevkit/VOC2012/'
# get_class_names('voc20') (mmclipself.vocab)
voc20_classes = ('aeroplane', 'bicycle', 'bird', 'boat', 'bottle', 'bus',
                 'car', 'cat', 'chair', 'cow', 'diningtable', 'dog', 'horse',
                 'motorbike', 'person', 'pottedplant', 'sheep', 'sofa',
                 'train', 'tvmonitor')
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
        metainfo=dict(classes=voc20_classes),
        data_prefix=dict(
            img_path='JPEGImages', seg_map_path='SegmentationClass'),
        ann_file='ImageSets/Segmentation/val.txt',
        pipeline=test_pipeline))
test_evaluator = dict(
    _delete_=True, type='IoUMetric', iou_metrics=['mIoU'], ignore_index=255)
