# F-ViT on OV-COCO with OpenAI CLIP ViT-B/16 refined by CLIPSelf on COCO
# image patches: the student of configs/clipself/openai_vitb16_coco.py
# exported into $CLIPSELF_CHECKPOINTS (default checkpoints/).
_base_ = './fvit_openai-vitb16_ov-coco.py'

clipself_weights = '{{$CLIPSELF_CHECKPOINTS:checkpoints}}/' \
    'openai_vitb16_coco_clipself_patches.pt'
model = dict(backbone=dict(clip=dict(pretrained=clipself_weights)))
