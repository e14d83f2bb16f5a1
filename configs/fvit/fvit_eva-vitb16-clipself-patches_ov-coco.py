# F-ViT on OV-COCO with EVA02-CLIP ViT-B/16 refined by CLIPSelf on COCO image
# patches (paper Table A7 "CLIPSelf (Image Patch)", 33.6 AP50 novel).
# The tower is the student exported from configs/clipself/eva_vitb16_coco.py:
#   python tools/model_converters/export_student.py \
#       work_dirs/eva_vitb16_coco/epoch_6.pth \
#       $CLIPSELF_CHECKPOINTS/eva_vitb16_coco_clipself_patches.pt
# (the release's file of that name loads too). Set CLIPSELF_CHECKPOINTS to
# the folder holding it (default: checkpoints/).
_base_ = './fvit_eva-vitb16_ov-coco.py'

clipself_weights = '{{$CLIPSELF_CHECKPOINTS:checkpoints}}/' \
    'eva_vitb16_coco_clipself_patches.pt'
model = dict(backbone=dict(clip=dict(pretrained=clipself_weights)))
