# F-ViT on OV-LVIS with EVA02-CLIP ViT-L/14-336 refined by CLIPSelf on image
# patches (paper Table A8, 34.9 mask APr): the student of
# configs/clipself/eva_vitl14_lvis.py exported into $CLIPSELF_CHECKPOINTS
# (default checkpoints/).
_base_ = './fvit_eva-vitl14_ov-lvis.py'

clipself_weights = '{{$CLIPSELF_CHECKPOINTS:checkpoints}}/' \
    'eva_vitl14_lvis_clipself_patches.pt'
model = dict(backbone=dict(clip=dict(pretrained=clipself_weights)))
