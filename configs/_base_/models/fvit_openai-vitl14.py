# F-ViT on a frozen OpenAI CLIP ViT-L/14 (paper A.3 taps for ViT-L/14).
_base_ = './fvit_eva-vitl14.py'

model = dict(
    backbone=dict(
        clip=dict(
            _delete_=True,
            type='mmclipself.OpenAICLIPViT',
            arch='vit-l14',
            pretrained='open_clip://ViT-L-14-quickgelu/openai')))
