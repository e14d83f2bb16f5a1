# CLIP mask classification with a ResNet-50 mask generator and the frozen
# EVA02-CLIP ViT-L/14-336 for the dense map: the tower the CLIPSelf release
# publishes refined (reference facts §2), in place of Table 5's OpenAI
# ViT-L/14-336. Its text tower makes every vocabulary file
# (data/text_embeddings/eva02-l14-336_*.pt, configs/maskcls/README.md).
_base_ = './maskcls_r50.py'

model = dict(
    clip_tower=dict(
        _delete_=True,
        type='mmclipself.EVA02CLIPViT',
        arch='eva02-l14-336',
        pretrained='open_clip://EVA02-L-14-336/merged2b_s6b_b61k'),
    panoptic_head=dict(
        vocabulary='data/text_embeddings/eva02-l14-336_coco_panoptic.pt'))
