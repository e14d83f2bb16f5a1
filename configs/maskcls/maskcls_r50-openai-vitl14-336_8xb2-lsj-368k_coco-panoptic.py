# CLIP mask classification (CLIPSelf Table 5 protocol) on Mask2Former with a
# ResNet-50 mask generator (MMDetection's Mask2Former) and the frozen
# original OpenAI CLIP ViT-L/14-336 of CLIPSelf Table 5 (ODISE's CLIP) for
# the dense map, trained on COCO panoptic (133 classes) with MMDetection's
# Mask2Former recipe (368,750 iterations), batch 16 = 8 GPUs x 2. Validation:
# COCO panoptic PQ with the fused scores (`clip_mode='fused'`); test: PQ and
# mask AP. README: configs/maskcls/README.md.
_base_ = [
    '../_base_/models/maskcls_r50.py',
    '../_base_/datasets/maskcls_coco_panoptic.py',
    '../_base_/schedules/maskcls_lsj-368k.py',
]

# test: PQ and mask AP (MMDetection's Mask2Former panoptic configs evaluate
# both; validation during training computes PQ only)
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
