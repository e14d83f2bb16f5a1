# Test of the COCO panoptic training of CLIP mask classification with a
# ResNet-50 mask generator (MMDetection's Mask2Former) and the frozen
# original OpenAI CLIP ViT-L/14-336 of CLIPSelf Table 5 (ODISE's CLIP) for
# the dense map, on ADE-150 semantic (the original class order): mIoU. Fused
# scores (CLIPSelf Table 5 "fused", `clip_mode='fused'`). Only the vocabulary
# and the outputs change: no weight depends on them.
_base_ = [
    '../_base_/models/maskcls_r50.py',
    '../_base_/datasets/maskcls_ade20k_semantic.py',
    '../_base_/det_runtime.py',
]

test_vocabulary = 'data/text_embeddings/openai-l14-336_ade20k.pt'
model = dict(
    panoptic_head=dict(
        test_vocabulary=test_vocabulary, test_num_things_classes=None),
    test_cfg=dict(panoptic_on=False, semantic_on=True, instance_on=False))

# test only (no training parts: see the README)
val_cfg = dict(type='ValLoop')
test_cfg = dict(type='TestLoop')
