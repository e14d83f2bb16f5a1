# ADE20K panoptic (150 classes, the 100 things first, then 50 stuff:
# vocabulary 'ade20k_panoptic') for testing the mask-classification
# segmentors, MMDetection's base (segmentation facts §4): images resized to
# short side 640, long side at most 2560 (Resize (2560, 640) keep_ratio is
# detectron2's ResizeShortestEdge(640, max_size=2560), the test size of
# X-Decoder's ADE panoptic configs), PQ/SQ/RQ with CocoPanopticMetric on
# the converter's ade20k_panoptic_val.json. Training and its validation are
# the inheriting config's (COCO panoptic). Data: README "Data preparation"
# (tools/dataset_converters/ade20k2coco.py --task panoptic).
_base_ = 'mmdet::_base_/datasets/ade20k_panoptic.py'

data_root = 'data/ADEChallengeData2016/'
backend_args = None
val_dataloader = dict(dataset=dict(data_root=data_root))
test_dataloader = val_dataloader
val_evaluator = dict(
    type='CocoPanopticMetric',
    ann_file=data_root + 'ade20k_panoptic_val.json',
    seg_prefix=data_root + 'ade20k_panoptic_val/',
    backend_args=backend_args)
test_evaluator = val_evaluator
