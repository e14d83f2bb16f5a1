# CLIP mask classification (CLIPSelf Table 5 protocol) on Mask2Former with a
# ResNet-50 mask generator (MMDetection's Mask2Former) and the frozen
# CLIPSelf-refined OpenAI CLIP ViT-L/14 (the student of
# configs/clipself/openai_vitl14_coco.py, distilled at 224 and run here at
# the test resolution) for the dense map, trained on COCO panoptic (133
# classes) with MMDetection's Mask2Former recipe (368,750 iterations), batch
# 16 = 8 GPUs x 2. Validation: COCO panoptic PQ with the fused scores
# (`clip_mode='fused'`); test: PQ and mask AP. README:
# configs/maskcls/README.md.
# The tower: python tools/model_converters/export_student.py CKPT \
#     $CLIPSELF_CHECKPOINTS/openai_vitl14_coco_clipself_patches.pt
# ($CLIPSELF_CHECKPOINTS defaults to checkpoints/). Its text tower, hence
# every vocabulary file, is OpenAI ViT-L/14's (224), not ViT-L/14-336's.
_base_ = [
    '../_base_/models/maskcls_r50.py',
    '../_base_/datasets/maskcls_coco_panoptic.py',
    '../_base_/schedules/maskcls_lsj-368k.py',
]

clipself_weights = '{{$CLIPSELF_CHECKPOINTS:checkpoints}}/' \
    'openai_vitl14_coco_clipself_patches.pt'

model = dict(
    clip_tower=dict(arch='vit-l14', pretrained=clipself_weights),
    panoptic_head=dict(
        vocabulary='data/text_embeddings/openai-l14_coco_panoptic.pt'))

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
