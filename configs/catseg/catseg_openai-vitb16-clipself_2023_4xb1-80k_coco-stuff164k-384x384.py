# Cat-Seg 2023 on OpenAI CLIP ViT-B/16 with a ResNet-101 guidance backbone,
# initialised from the CLIPSelf-refined tower (paper Table 4): the student of
# configs/clipself/openai_vitb16_coco.py exported with
#   python tools/model_converters/export_student.py CKPT \
#       $CLIPSELF_CHECKPOINTS/openai_vitb16_coco_clipself_patches.pt
# ($CLIPSELF_CHECKPOINTS defaults to checkpoints/.) The Cat-Seg training is
# unchanged (CLIPSelf #4: "the training of Cat-Seg remain unchanged").
_base_ = ['./catseg_openai-vitb16_2023_4xb1-80k_coco-stuff164k-384x384.py']

clipself_weights = '{{$CLIPSELF_CHECKPOINTS:checkpoints}}/' \
    'openai_vitb16_coco_clipself_patches.pt'
model = dict(clip_tower=dict(pretrained=clipself_weights))
