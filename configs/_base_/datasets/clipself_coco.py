# Image-only data for CLIPSelf: COCO train2017 images (paper §4.1: OV-COCO
# and the segmentation benchmarks distil on COCO train2017). Only the image
# list of the annotation file is read; regions come from an m x n grid of
# the original-resolution image, the teacher sees the same tiles as crops.
# Configs add coco_panoptic_region_recognition.py for validation/test.
dataset_type = 'mmclipself.ImageRegionDataset'
data_root = 'data/coco/'

train_pipeline = [
    dict(type='mmclipself.LoadImageOrSkip'),
    # release sampling rule and cap of 20 regions (what produced the
    # published numbers); sampling='paper' draws m, n from 1..6 freely
    dict(
        type='mmclipself.RandomGridRegions',
        max_split=6,
        sampling='release',
        max_regions=20),
    dict(type='mmclipself.PackRegionInputs'),
]
train_dataloader = dict(
    batch_size=2,
    num_workers=4,
    persistent_workers=True,
    sampler=dict(type='DefaultSampler', shuffle=True),
    # collate_fn: MMEngine's default (pseudo_collate). Not written: a
    # config inheriting ours via `mmclipself::` would pass it `_scope_`.
    dataset=dict(
        type=dataset_type,
        data_root=data_root,
        ann_file='annotations/instances_train2017.json',
        data_prefix=dict(img_path='train2017/'),
        pipeline=train_pipeline))
