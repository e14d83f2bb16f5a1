# Test of a maskcls_r50-eva-vitl14-336_8xb2-lsj-368k_coco-panoptic.py
# checkpoint with the CLIPSelf-refined tower swapped in (the R50 model's CLIP
# tower only classifies at test time: same masks and in-vocab head, only the
# CLIP differs, as CLIPSelf Table 5 compares) on ADE-150 semantic (the
# original class order): mIoU. Fused scores (`--cfg-options
# model.clip_mode=clip_only` for Table 5's "CLIP-only"). Only the vocabulary
# and the outputs change: no weight depends on them.
_base_ = [
    '../_base_/models/maskcls_r50_eva-vitl14-336-clipself.py',
    '../_base_/datasets/maskcls_ade20k_semantic.py',
    '../_base_/det_runtime.py',
]

test_vocabulary = 'data/text_embeddings/eva02-l14-336_ade20k.pt'
model = dict(
    panoptic_head=dict(
        test_vocabulary=test_vocabulary, test_num_things_classes=None),
    test_cfg=dict(panoptic_on=False, semantic_on=True, instance_on=False))

# test only (no training parts: see the README)
val_cfg = dict(type='ValLoop')
test_cfg = dict(type='TestLoop')
