# F-ViT on OV-LVIS with EVA02-CLIP ViT-B/16 refined by CLIPSelf on image
# patches of LVIS (COCO 2017) images (paper Table A8, 25.3 mask APr): the
# student of configs/clipself/eva_vitb16_lvis.py exported into
# $CLIPSELF_CHECKPOINTS (default checkpoints/).
_base_ = './fvit_eva-vitb16_ov-lvis.py'

clipself_weights = '{{$CLIPSELF_CHECKPOINTS:checkpoints}}/' \
    'eva_vitb16_lvis_clipself_patches.pt'
model = dict(backbone=dict(clip=dict(pretrained=clipself_weights)))
