# Test of the COCO panoptic training of CLIP mask classification with a
# ResNet-50 mask generator (MMDetection's Mask2Former) and the frozen
# CLIPSelf-refined OpenAI CLIP ViT-L/14 (the student of
# configs/clipself/openai_vitl14_coco.py, distilled at 224 and run here at
# the test resolution) for the dense map, on ADE20K panoptic (150 classes,
# the 100 things first): PQ / SQ / RQ. Fused scores (CLIPSelf Table 5
# "fused", `clip_mode='fused'`). Only the vocabulary and the outputs change:
# no weight depends on them.
# The tower: python tools/model_converters/export_student.py CKPT \
#     $CLIPSELF_CHECKPOINTS/openai_vitl14_coco_clipself_patches.pt
# ($CLIPSELF_CHECKPOINTS defaults to checkpoints/). Its text tower, hence
# every vocabulary file, is OpenAI ViT-L/14's (224), not ViT-L/14-336's.
_base_ = [
    '../_base_/models/maskcls_r50.py',
    '../_base_/datasets/maskcls_ade20k_panoptic.py',
    '../_base_/det_runtime.py',
]

test_vocabulary = 'data/text_embeddings/openai-l14_ade20k_panoptic.pt'
clipself_weights = '{{$CLIPSELF_CHECKPOINTS:checkpoints}}/' \
    'openai_vitl14_coco_clipself_patches.pt'

model = dict(
    clip_tower=dict(arch='vit-l14', pretrained=clipself_weights),
    panoptic_head=dict(
        vocabulary='data/text_embeddings/openai-l14_coco_panoptic.pt',
        test_vocabulary=test_vocabulary,
        test_num_things_classes=100),
    test_cfg=dict(panoptic_on=True, semantic_on=False, instance_on=False))

# test only (no training parts: see the README)
val_cfg = dict(type='ValLoop')
test_cfg = dict(type='TestLoop')
