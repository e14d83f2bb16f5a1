# F-ViT on OV-COCO with EVA02-CLIP ViT-B/16 refined by CLIPSelf on region
# proposals (paper Table A7 "CLIPSelf (Region Proposal)", 37.6 AP50 novel),
# the student of configs/clipself/eva_vitb16_coco_proposals.py exported with
# tools/model_converters/export_student.py into $CLIPSELF_CHECKPOINTS.
_base_ = './fvit_eva-vitb16_ov-coco.py'

clipself_weights = '{{$CLIPSELF_CHECKPOINTS:checkpoints}}/' \
    'eva_vitb16_coco_clipself_proposals.pt'
model = dict(backbone=dict(clip=dict(pretrained=clipself_weights)))
