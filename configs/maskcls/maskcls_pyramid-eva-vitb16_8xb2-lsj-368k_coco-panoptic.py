# CLIP mask classification (CLIPSelf Table 5 protocol) on Mask2Former with
# the frozen original EVA02-CLIP ViT-B/16 pyramid of F-ViT as the mask
# generator's backbone, whose single pass also gives the dense map, trained
# on COCO panoptic (133 classes) with MMDetection's Mask2Former recipe
# (368,750 iterations), batch 16 = 8 GPUs x 2. Validation: COCO panoptic PQ
# with the fused scores (`clip_mode='fused'`); test: PQ and mask AP. README:
# configs/maskcls/README.md.
_base_ = [
    '../_base_/models/maskcls_clip-vit-pyramid_eva-vitb16.py',
    '../_base_/datasets/maskcls_coco_panoptic.py',
    '../_base_/schedules/maskcls_lsj-368k.py',
]

# the pyramid's trainable layers are new (the CLIP tower is frozen): they
# train at the base lr, not at the ResNet's x0.1
optim_wrapper = dict(
    paramwise_cfg=dict(custom_keys=dict(backbone=dict(lr_mult=1.0))))

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
