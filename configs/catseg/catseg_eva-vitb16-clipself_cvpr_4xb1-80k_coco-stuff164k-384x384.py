# Cat-Seg CVPR'24 on EVA02-CLIP B/16, initialised from the CLIPSelf-refined
# tower (paper Table 4): the student of configs/clipself/eva_vitb16_coco.py
# exported with
#   python tools/model_converters/export_student.py CKPT \
#       $CLIPSELF_CHECKPOINTS/eva_vitb16_coco_clipself_patches.pt
# ($CLIPSELF_CHECKPOINTS defaults to checkpoints/.) The Cat-Seg training is
# unchanged (CLIPSelf #4: "the training of Cat-Seg remain unchanged").
_base_ = ['./catseg_eva-vitb16_cvpr_4xb1-80k_coco-stuff164k-384x384.py']

clipself_weights = '{{$CLIPSELF_CHECKPOINTS:checkpoints}}/' \
    'eva_vitb16_coco_clipself_patches.pt'
model = dict(clip_tower=dict(pretrained=clipself_weights))
