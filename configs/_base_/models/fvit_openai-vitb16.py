# F-ViT on a frozen OpenAI CLIP ViT-B/16 (the detector of CLIM's OpenAI-CLIP
# port; paper A.3 taps for ViT-B/16).
_base_ = './fvit_eva-vitb16.py'

model = dict(
    backbone=dict(
        clip=dict(
            _delete_=True,
            type='mmclipself.OpenAICLIPViT',
            arch='vit-b16',
            pretrained='open_clip://ViT-B-16-quickgelu/openai')))
