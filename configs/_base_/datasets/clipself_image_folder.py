# CLIPSelf on any folder of images (or a .txt list of paths via ann_file),
# e.g. web images as in paper Table 8 (CC3M). Corrupt files are skipped with
# a warning that counts them. Validation here: region-to-crop alignment of
# held-out images on a fixed 3x3 grid (no labels needed).
_base_ = './clipself_coco.py'

data_root = 'data/images/'
test_pipeline = [
    dict(type='mmclipself.LoadImageOrSkip'),
    dict(type='mmclipself.RandomGridRegions', split=(3, 3), shuffle=False),
    dict(type='mmclipself.PackRegionInputs'),
]
train_dataloader = dict(
    dataset=dict(
        data_root=data_root, ann_file='', data_prefix=dict(img_path='')))
val_dataloader = dict(
    batch_size=1,
    num_workers=2,
    persistent_workers=True,
    sampler=dict(type='DefaultSampler', shuffle=False),
    # collate_fn: MMEngine's default (pseudo_collate). Not written: a
    # config inheriting ours via `mmclipself::` would pass it `_scope_`.
    dataset=dict(
        type='mmclipself.ImageRegionDataset',
        data_root=data_root,
        ann_file='',
        data_prefix=dict(img_path=''),
        test_mode=True,
        pipeline=test_pipeline))
test_dataloader = val_dataloader
val_evaluator = dict(type='mmclipself.RegionAlignmentMetric')
test_evaluator = val_evaluator
