# F-ViT on OV-COCO with EVA02-CLIP ViT-L/14-336 refined by CLIPSelf on COCO
# image patches (paper Table A7, 38.4 AP50 novel): the student of
# configs/clipself/eva_vitl14_coco.py exported with
# tools/model_converters/export_student.py into $CLIPSELF_CHECKPOINTS
# (default checkpoints/).
_base_ = './fvit_eva-vitl14_ov-coco.py'

clipself_weights = '{{$CLIPSELF_CHECKPOINTS:checkpoints}}/' \
    'eva_vitl14_coco_clipself_patches.pt'
model = dict(backbone=dict(clip=dict(pretrained=clipself_weights)))
