# ADE20K instance (the 100 things in the panoptic order: vocabulary
# 'ade20k_instance') for testing the mask-classification segmentors:
# MMDetection's ADE20KInstanceDataset on the converter's
# ade20k_instance_val.json, mask AP with CocoMetric (segm), short side 640,
# long side at most 2560 as MMDetection's base. Data: README "Data
# preparation" (tools/dataset_converters/ade20k2coco.py --task instance).
_base_ = 'mmdet::_base_/datasets/ade20k_instance.py'

data_root = 'data/ADEChallengeData2016/'
backend_args = None
val_dataloader = dict(dataset=dict(data_root=data_root))
test_dataloader = val_dataloader
val_evaluator = dict(
    type='CocoMetric',
    ann_file=data_root + 'ade20k_instance_val.json',
    metric=['segm'],
    format_only=False,
    backend_args=backend_args)
test_evaluator = val_evaluator
