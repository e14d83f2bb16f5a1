# Cat-Seg CVPR'24 on OpenAI CLIP ViT-L/14 at 336, trained on COCO-Stuff-164k
# (171 classes) with the release schedule (segmentation facts §2.3), from the
# original CLIP weights.
_base_ = [
    '../_base_/models/catseg_openai-vitl14-336_cvpr.py',
    '../_base_/datasets/catseg_coco_stuff164k.py', '../_base_/seg_runtime.py',
    '../_base_/schedules/catseg_80k.py'
]
