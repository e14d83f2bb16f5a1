# Cat-Seg 2023 on OpenAI CLIP ViT-B/16 with a ResNet-101 guidance backbone,
# trained on COCO-Stuff-164k (171 classes) with the release schedule
# (segmentation facts §2.3), from the original CLIP weights.
_base_ = [
    '../_base_/models/catseg_openai-vitb16_2023.py',
    '../_base_/datasets/catseg_coco_stuff164k.py', '../_base_/seg_runtime.py',
    '../_base_/schedules/catseg_80k.py'
]
