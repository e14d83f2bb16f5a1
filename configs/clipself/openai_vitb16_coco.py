# CLIPSelf on OpenAI CLIP ViT-B/16 with COCO image patches (the CLIP used by
# the Cat-Seg experiments, paper Table 4).
_base_ = './eva_vitb16_coco.py'

model = dict(
    student=dict(
        _delete_=True,
        type='OpenAICLIPViT',
        arch='vit-b16',
        pretrained='open_clip://ViT-B-16-quickgelu/openai',
        train_blocks='all'))
