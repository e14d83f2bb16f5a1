# Image-only data for CLIPSelf: an image folder (or .txt file list / COCO
# json via ann_file), grid regions, original-resolution teacher crops.
dataset_type = 'ImageRegionDataset'
data_root = 'data/images/'

train_pipeline = [
    dict(type='LoadImageOrSkip'),
    # release rule and cap (what produced the published numbers)
    dict(
        type='RandomGridRegions',
        max_split=6,
        sampling='release',
        max_regions=20),
    dict(type='PackRegionInputs'),
]
# held-out images: a fixed 3x3 grid makes the alignment metric repeatable
test_pipeline = [
    dict(type='LoadImageOrSkip'),
    dict(type='RandomGridRegions', split=(3, 3), shuffle=False),
    dict(type='PackRegionInputs'),
]

train_dataloader = dict(
    batch_size=2,
    num_workers=2,
    persistent_workers=True,
    sampler=dict(type='DefaultSampler', shuffle=True),
    collate_fn=dict(type='pseudo_collate'),
    dataset=dict(
        type=dataset_type,
        data_root=data_root,
        data_prefix=dict(img_path=''),
        pipeline=train_pipeline))
val_dataloader = dict(
    batch_size=1,
    num_workers=1,
    persistent_workers=True,
    sampler=dict(type='DefaultSampler', shuffle=False),
    collate_fn=dict(type='pseudo_collate'),
    dataset=dict(
        type=dataset_type,
        data_root=data_root,
        data_prefix=dict(img_path=''),
        test_mode=True,
        pipeline=test_pipeline))
test_dataloader = val_dataloader
val_evaluator = dict(type='RegionAlignmentMetric')
test_evaluator = val_evaluator
