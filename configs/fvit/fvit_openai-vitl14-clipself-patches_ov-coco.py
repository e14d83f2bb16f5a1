# F-ViT on OV-COCO with OpenAI CLIP ViT-L/14 refined by CLIPSelf on COCO
# image patches: the student of configs/clipself/openai_vitl14_coco.py
# exported into $CLIPSELF_CHECKPOINTS (default checkpoints/).
_base_ = './fvit_openai-vitl14_ov-coco.py'

clipself_weights = '{{$CLIPSELF_CHECKPOINTS:checkpoints}}/' \
    'openai_vitl14_coco_clipself_patches.pt'
model = dict(backbone=dict(clip=dict(pretrained=clipself_weights)))
