# OV-COCO (Bansal et al. 2018; F-ViT / CLIPSelf release, reference facts §1):
# train on the 48 base classes of train2017, test on all 65 classes of
# val2017, report AP50 of novel (17) and base (48) classes. Build the files
# from the official annotations with
#   python tools/dataset_converters/build_ov_coco.py --split train ...
#   python tools/dataset_converters/build_ov_coco.py --split val ...
# Types resolve in MMDetection's scope (default_scope of det_runtime.py);
# only mmclipself's own carry a prefix.
dataset_type = 'mmclipself.OVCocoDataset'
data_root = 'data/coco/'
image_size = (640, 640)  # release: 640 for ViT-B/16, 896 for ViT-L/14

# release: large-scale jitter, resize x0.1-2.0, crop to the input size
train_pipeline = [
    dict(type='LoadImageFromFile'),
    dict(type='LoadAnnotations', with_bbox=True),
    dict(
        type='RandomResize',
        scale=image_size,
        ratio_range=(0.1, 2.0),
        keep_ratio=True),
    dict(
        type='RandomCrop',
        crop_type='absolute_range',
        crop_size=image_size,
        recompute_bbox=True,
        allow_negative_crop=True),
    dict(type='FilterAnnotations', min_gt_bbox_wh=(1e-2, 1e-2)),
    dict(type='RandomFlip', prob=0.5),
    dict(type='PackDetInputs'),
]
# the data preprocessor pads to the square input size after normalising
test_pipeline = [
    dict(type='LoadImageFromFile'),
    dict(type='Resize', scale=image_size, keep_ratio=True),
    dict(type='LoadAnnotations', with_bbox=True),
    dict(
        type='PackDetInputs',
        meta_keys=('img_id', 'img_path', 'ori_shape', 'img_shape',
                   'scale_factor')),
]
train_dataloader = dict(
    batch_size=8,  # x 8 GPUs = 64 (release)
    num_workers=4,
    persistent_workers=True,
    sampler=dict(type='DefaultSampler', shuffle=True),
    batch_sampler=dict(type='AspectRatioBatchSampler'),
    dataset=dict(
        type=dataset_type,
        data_root=data_root,
        ann_file='annotations/instances_train2017_seen_2_65_cat.json',
        data_prefix=dict(img='train2017/'),
        filter_cfg=dict(filter_empty_gt=True, min_size=32),
        pipeline=train_pipeline))
val_dataloader = dict(
    batch_size=1,
    num_workers=2,
    persistent_workers=True,
    drop_last=False,
    sampler=dict(type='DefaultSampler', shuffle=False),
    dataset=dict(
        type=dataset_type,
        data_root=data_root,
        ann_file='annotations/instances_val2017_all_2.json',
        data_prefix=dict(img='val2017/'),
        test_mode=True,
        pipeline=test_pipeline))
test_dataloader = val_dataloader

# novel/base AP50 per class at IoU 0.5 (release protocol), plus COCO's AP
val_evaluator = dict(
    type='mmclipself.OVCocoMetric',
    ann_file=data_root + 'annotations/instances_val2017_all_2.json',
    metric='bbox',
    novel_classes='coco17',
    base_classes='coco48')
test_evaluator = val_evaluator
