# ADE20K semantic (ADE-150 in the original order, wall, building, sky, ...:
# vocabulary 'ade20k') for testing the mask-classification segmentors:
# MMDetection's ADE20KSegDataset (label 0 "other" is ignored:
# reduce_zero_label) and SemSegMetric (mIoU). Test size as the panoptic
# test (short side 640, long side at most 2560; segmentation facts §3.8:
# one inference gives PQ, mAP and mIoU), where MMDetection's base uses
# (2048, 512). Data: README "Data preparation".
_base_ = 'mmdet::_base_/datasets/ade20k_semantic.py'

data_root = 'data/ADEChallengeData2016/'
backend_args = None
test_pipeline = [
    dict(type='LoadImageFromFile', backend_args=backend_args),
    dict(type='Resize', scale=(2560, 640), keep_ratio=True),
    dict(
        type='LoadAnnotations',
        with_bbox=False,
        with_mask=False,
        with_seg=True,
        reduce_zero_label=True),
    dict(
        type='PackDetInputs',
        meta_keys=('img_path', 'ori_shape', 'img_shape', 'scale_factor'))
]
val_dataloader = dict(
    dataset=dict(data_root=data_root, pipeline=test_pipeline))
test_dataloader = val_dataloader
