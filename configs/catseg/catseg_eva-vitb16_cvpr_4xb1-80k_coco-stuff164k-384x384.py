# Cat-Seg CVPR'24 on EVA02-CLIP B/16, trained on COCO-Stuff-164k (171 classes)
# with the release schedule (segmentation facts §2.3), from the original CLIP
# weights.
_base_ = [
    '../_base_/models/catseg_eva-vitb16_cvpr.py',
    '../_base_/datasets/catseg_coco_stuff164k.py', '../_base_/seg_runtime.py',
    '../_base_/schedules/catseg_80k.py'
]
