# Test of the COCO panoptic training of CLIP mask classification with a
# ResNet-50 mask generator (MMDetection's Mask2Former) and the frozen
# original OpenAI CLIP ViT-L/14-336 of CLIPSelf Table 5 (ODISE's CLIP) for
# the dense map, scoring every mask with the CLIP score alone (CLIPSelf Table
# 5 "CLIP-only", `clip_mode='clip_only'`); the training config tests the
# fused scores.
_base_ = [
    '../_base_/models/maskcls_r50.py',
    '../_base_/datasets/maskcls_coco_panoptic.py',
    '../_base_/schedules/maskcls_lsj-368k.py',
]

model = dict(clip_mode='clip_only')

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
