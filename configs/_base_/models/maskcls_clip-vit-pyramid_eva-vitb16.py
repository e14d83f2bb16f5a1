# Open-vocabulary Mask2Former (./maskcls_r50.py) whose mask generator runs on
# F-ViT's frozen CLIP ViT pyramid (CLIPSelf paper A.3): EVA02-CLIP ViT-B/16.
# One tower pass gives the 4-level pyramid (strides 4/8/16/32) and, at test
# time, the dense CLIP map that classifies the masks: no second tower.
# Vocabulary files: `--model EVA02-B-16 --pretrained
# open_clip://EVA02-B-16/merged2b_s8b_b131k` (512-d). A CLIPSelf-refined
# tower changes the mask generator's features too: train with the tower you
# test with.
_base_ = './maskcls_r50.py'

model = dict(
    data_preprocessor=dict(
        # the tower's own normalisation (CLIP mean/std x 255, facts §1.2):
        # the pyramid and the dense map come from the same pass
        mean=[122.7709383, 116.7460125, 104.09373615],
        std=[68.5005327, 66.6321579, 70.3231630],
        pad_size_divisor=32),  # 2 x patch 16: the stride-32 level
    backbone=dict(
        _delete_=True,
        type='mmclipself.CLIPViTPyramid',
        clip=dict(
            type='mmclipself.EVA02CLIPViT',
            arch='eva02-b16',
            pretrained='open_clip://EVA02-B-16/merged2b_s8b_b131k'),
        out_indices=(3, 5, 7, 11),  # paper A.3 for ViT-B/16
        pyramid='convt',  # F-ViT release
        norm_cfg=dict(type='SyncBN', requires_grad=True)),
    panoptic_head=dict(
        vocabulary='data/text_embeddings/eva02-b16_coco_panoptic.pt',
        in_channels=[768, 768, 768, 768]),  # ViT-B width at every level
    clip_tower=None)  # the backbone's tower gives the dense map
