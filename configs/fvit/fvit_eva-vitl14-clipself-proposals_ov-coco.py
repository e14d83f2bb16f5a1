# F-ViT on OV-COCO with EVA02-CLIP ViT-L/14-336 refined by CLIPSelf on region
# proposals (paper Table A7, 44.3 AP50 novel): the student of
# configs/clipself/eva_vitl14_coco_proposals.py exported into
# $CLIPSELF_CHECKPOINTS (default checkpoints/).
_base_ = './fvit_eva-vitl14_ov-coco.py'

clipself_weights = '{{$CLIPSELF_CHECKPOINTS:checkpoints}}/' \
    'eva_vitl14_coco_clipself_proposals.pt'
model = dict(backbone=dict(clip=dict(pretrained=clipself_weights)))
