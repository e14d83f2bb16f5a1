# Test of the COCO panoptic training of CLIP mask classification with the
# frozen CLIPSelf-refined EVA02-CLIP ViT-B/16 pyramid (the student of
# configs/clipself/eva_vitb16_coco.py, or the release's file of that name) as
# the mask generator's backbone, whose single pass also gives the dense map,
# on ADE20K instance (the 100 things): mask AP. Fused scores (CLIPSelf Table
# 5 "fused", `clip_mode='fused'`). Only the vocabulary and the outputs
# change: no weight depends on them.
# The tower: python tools/model_converters/export_student.py CKPT \
#     $CLIPSELF_CHECKPOINTS/eva_vitb16_coco_clipself_patches.pt
# ($CLIPSELF_CHECKPOINTS defaults to checkpoints/); CLIPSelf leaves the text
# tower unchanged: the original EVA02-B-16 vocabulary files apply.
_base_ = [
    '../_base_/models/maskcls_clip-vit-pyramid_eva-vitb16.py',
    '../_base_/datasets/maskcls_ade20k_instance.py',
    '../_base_/det_runtime.py',
]

test_vocabulary = 'data/text_embeddings/eva02-b16_ade20k_instance.pt'
clipself_weights = '{{$CLIPSELF_CHECKPOINTS:checkpoints}}/' \
    'eva_vitb16_coco_clipself_patches.pt'

model = dict(
    backbone=dict(clip=dict(pretrained=clipself_weights)),
    panoptic_head=dict(
        test_vocabulary=test_vocabulary, test_num_things_classes=100),
    test_cfg=dict(panoptic_on=False, semantic_on=False, instance_on=True))

# test only (no training parts: see the README)
val_cfg = dict(type='ValLoop')
test_cfg = dict(type='TestLoop')
