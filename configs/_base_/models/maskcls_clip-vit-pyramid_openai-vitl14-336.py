# Open-vocabulary Mask2Former on F-ViT's frozen CLIP ViT pyramid with the
# OpenAI ViT-L/14-336 of CLIPSelf Table 5 (facts §3.8): taps [6, 10, 14, 23]
# (paper A.3 for L/14) at strides 3.5/7/14/28, 1024 channels, 768-d
# vocabulary (`--model ViT-L-14-336-quickgelu --pretrained
# open_clip://ViT-L-14-336-quickgelu/openai`).
_base_ = './maskcls_clip-vit-pyramid_eva-vitb16.py'

image_size = (1036, 1036)  # LSJ 1024 rounded up to 2 x patch 14 = 28
model = dict(
    data_preprocessor=dict(
        pad_size_divisor=28,  # 2 x patch 14: the stride-28 level
        batch_augments=[
            dict(
                type='BatchFixedSizePad',
                size=image_size,
                img_pad_value=0,
                pad_mask=True,
                mask_pad_value=0,
                pad_seg=True,
                seg_pad_value=255)
        ]),
    backbone=dict(
        clip=dict(
            _delete_=True,
            type='mmclipself.OpenAICLIPViT',
            arch='vit-l14-336',
            pretrained='open_clip://ViT-L-14-336-quickgelu/openai'),
        out_indices=(6, 10, 14, 23)),
    panoptic_head=dict(
        vocabulary='data/text_embeddings/openai-l14-336_coco_panoptic.pt',
        in_channels=[1024, 1024, 1024, 1024],  # ViT-L width
        strides=[3.5, 7, 14, 28]))
