# Cat-Seg CVPR'24 on OpenAI CLIP ViT-B/16, initialised from the
# CLIPSelf-refined tower (paper Table 4; the tower, its export and its dense
# path are described in _base_/models/catseg_openai-vitb16-clipself_cvpr.py),
# trained on COCO-Stuff-164k with the release schedule (segmentation facts
# §2.3). The Cat-Seg training is unchanged (CLIPSelf #4).
_base_ = [
    '../_base_/models/catseg_openai-vitb16-clipself_cvpr.py',
    '../_base_/datasets/catseg_coco_stuff164k.py', '../_base_/seg_runtime.py',
    '../_base_/schedules/catseg_80k.py'
]
