# OV-LVIS (ViLD protocol; F-ViT / CLIPSelf release, reference facts §1):
# train on LVIS v1 train without the annotations of the 337 rare classes,
# test on LVIS v1 val with all 1203 classes; the headline metric is mask
# APr with 300 detections per image. Build the training file with
#   python tools/dataset_converters/build_ov_lvis.py ...
# LVIS images are COCO 2017 images: data/lvis_v1/{train2017,val2017} may be
# symlinks to data/coco/.
# Types resolve in MMDetection's scope (default_scope of det_runtime.py);
# only mmclipself's own carry a prefix.
dataset_type = 'mmclipself.OVLVISV1Dataset'
data_root = 'data/lvis_v1/'
image_size = (1024, 1024)  # release: 1024 for ViT-B/16, 896 for ViT-L/14

train_pipeline = [
    dict(type='LoadImageFromFile'),
    dict(type='LoadAnnotations', with_bbox=True, with_mask=True),
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
test_pipeline = [
    dict(type='LoadImageFromFile'),
    dict(type='Resize', scale=image_size, keep_ratio=True),
    dict(type='LoadAnnotations', with_bbox=True, with_mask=True),
    dict(
        type='PackDetInputs',
        meta_keys=('img_id', 'img_path', 'ori_shape', 'img_shape',
                   'scale_factor')),
]
train_dataloader = dict(
    batch_size=8,  # x 8 GPUs = 64 (release); no repeat-factor sampling
    num_workers=4,
    persistent_workers=True,
    sampler=dict(type='DefaultSampler', shuffle=True),
    batch_sampler=dict(type='AspectRatioBatchSampler'),
    dataset=dict(
        type=dataset_type,
        data_root=data_root,
        ann_file='annotations/lvis_v1_train_seen_1203_cat.json',
        data_prefix=dict(img=''),
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
        ann_file='annotations/lvis_v1_val.json',
        data_prefix=dict(img=''),
        test_mode=True,
        pipeline=test_pipeline))
test_dataloader = val_dataloader

# LVIS AP/APr/APc/APf (300 detections per image); novel_base_ap50=True adds
# the release's novel/base mask AP50 at the cost of one more evaluation pass
val_evaluator = dict(
    type='mmclipself.OVLVISMetric',
    ann_file=data_root + 'annotations/lvis_v1_val.json',
    metric=['bbox', 'segm'])
test_evaluator = val_evaluator
