# Cat-Seg CVPR'24 on OpenAI ViT-L/14 refined by CLIPSelf (paper
# Table 4): the student of configs/clipself/openai_vitl14_coco.py, exported
# into $CLIPSELF_CHECKPOINTS (default checkpoints/) with
# tools/model_converters/export_student.py. The release distils ViT-L/14 at
# 224, so the tower is 'vit-l14' (not 'vit-l14-336'): its 16x16 position
# embedding is resized to the 24x24 grid of the 336 input on every forward,
# as Cat-Seg does for B/16, and the text tower is ViT-L/14's own.
_base_ = './catseg_openai-vitl14-336_cvpr.py'

clipself_weights = '{{$CLIPSELF_CHECKPOINTS:checkpoints}}/' \
    'openai_vitl14_coco_clipself_patches.pt'
model = dict(
    # the per-token skip CLIPSelf distils (the original-CLIP CVPR'24
    # configs use the release's class-token skip, facts §1.1)
    clip_tower=dict(
        arch='vit-l14', pretrained=clipself_weights, dense_residual='token'),
    text_encoder=dict(
        model_name='ViT-L-14-quickgelu',
        pretrained='open_clip://ViT-L-14-quickgelu/openai'))
