# Cat-Seg 2023 on OpenAI CLIP ViT-L/14 at 336 with a frozen Swin-B guidance
# backbone, trained on COCO-Stuff-164k (171 classes) with the release schedule
# (segmentation facts §2.3), from the original CLIP weights.
_base_ = [
    '../_base_/models/catseg_openai-vitl14-336_2023.py',
    '../_base_/datasets/catseg_coco_stuff164k.py', '../_base_/seg_runtime.py',
    '../_base_/schedules/catseg_80k.py'
]
