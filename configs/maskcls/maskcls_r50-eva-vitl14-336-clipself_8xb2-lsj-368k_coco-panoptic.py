# CLIP mask classification (CLIPSelf Table 5 protocol) on Mask2Former with a
# ResNet-50 mask generator and the frozen CLIPSelf-refined EVA02-CLIP
# ViT-L/14-336 (the release's published tower) for the dense map (model base:
# _base_/models/maskcls_r50_eva-vitl14-336-clipself.py), trained on COCO
# panoptic (133 classes) with MMDetection's Mask2Former recipe (368,750
# iterations, batch 16 = 8 GPUs x 2). Validation: COCO panoptic PQ with the
# fused scores; test: PQ and mask AP. README: configs/maskcls/README.md.
_base_ = [
    '../_base_/models/maskcls_r50_eva-vitl14-336-clipself.py',
    '../_base_/datasets/maskcls_coco_panoptic.py',
    '../_base_/schedules/maskcls_lsj-368k.py',
]

# test: PQ and mask AP (as MMDetection's Mask2Former panoptic configs)
test_evaluator = [
    dict(
        type='CocoPanopticMetric',
        ann_file='data/coco/annotations/panoptic_val2017.json',
        seg_prefix='data/coco/annotations/panoptic_val2017/'),
    dict(
        type='CocoMetric',
        ann_file='data/coco/annotations/instances_val2017.json',
        metric=['segm'])
]
