# CLIPSelf on EVA02-CLIP ViT-L/14-336 with COCO train2017 image patches
# (paper A.2; release: student 896 px, teacher crops 336 px, blend 0.95).
_base_ = './eva_vitb16_coco.py'

model = dict(
    student=dict(
        arch='eva02-l14-336',
        pretrained='open_clip://EVA02-L-14-336/merged2b_s6b_b61k'),
    data_preprocessor=dict(student_size=896, crop_size=336))

custom_hooks = [dict(type='mmclipself.StudentTeacherBlendHook', alpha=0.95)]

# region recognition with the L/14 text tower's embeddings
val_evaluator = dict(
    text_embeddings='data/embeddings/coco_panoptic_eva02-l14-336.pt')
test_evaluator = val_evaluator
