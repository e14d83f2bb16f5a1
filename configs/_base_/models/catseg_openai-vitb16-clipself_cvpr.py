# Cat-Seg CVPR'24 on OpenAI ViT-B/16 refined by CLIPSelf (paper Table 4):
# the student of configs/clipself/openai_vitb16_coco.py, exported into
# $CLIPSELF_CHECKPOINTS (default checkpoints/) with
# tools/model_converters/export_student.py. Its dense map is the one
# CLIPSelf distils: the value-only last block with each token's own skip
# (the original-CLIP CVPR'24 base uses the release's class-token skip,
# segmentation facts §1.1), hence its own test configs.
_base_ = './catseg_openai-vitb16_cvpr.py'

clipself_weights = '{{$CLIPSELF_CHECKPOINTS:checkpoints}}/' \
    'openai_vitb16_coco_clipself_patches.pt'
model = dict(
    clip_tower=dict(pretrained=clipself_weights, dense_residual='token'))
