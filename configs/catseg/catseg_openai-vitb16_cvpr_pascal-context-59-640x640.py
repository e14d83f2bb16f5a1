# Test of the original-CLIP COCO-Stuff training of Cat-Seg CVPR'24
# on OpenAI CLIP ViT-B/16 on PC-59 (59 classes), with the release's 5-view
# protocol (segmentation facts §2.4). Only the vocabulary changes: no weight
# depends on it.
_base_ = [
    '../_base_/models/catseg_openai-vitb16_cvpr.py',
    '../_base_/datasets/catseg_pascal_context_59.py',
    '../_base_/seg_runtime.py', '../_base_/schedules/catseg_80k.py'
]

model = dict(test_vocabulary='pascal_context59')
