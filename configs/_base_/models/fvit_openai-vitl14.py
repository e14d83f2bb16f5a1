# F-ViT on a frozen OpenAI CLIP ViT-L/14 (paper A.3, reference facts §1):
# taps [6, 10, 14, 23] at strides 3.5/7/14/28, FPN on 1024 channels, box
# features of the 768-d CLIP embedding width, anchors at strides 3.5-56.
_base_ = './fvit_eva-vitb16.py'

model = dict(
    data_preprocessor=dict(pad_size_divisor=896),
    backbone=dict(
        clip=dict(
            _delete_=True,
            type='mmclipself.OpenAICLIPViT',
            arch='vit-l14',
            pretrained='open_clip://ViT-L-14-quickgelu/openai'),
        out_indices=(6, 10, 14, 23)),  # paper A.3 for ViT-L/14
    neck=dict(in_channels=[1024, 1024, 1024, 1024]),
    rpn_head=dict(anchor_generator=dict(strides=[3.5, 7, 14, 28, 56])),
    roi_head=dict(
        bbox_roi_extractor=dict(featmap_strides=[3.5, 7, 14, 28]),
        bbox_head=dict(fc_out_channels=768)))
