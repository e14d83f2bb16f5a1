# CLIPSelf on OpenAI CLIP ViT-B/16 with COCO image patches (the CLIP used by
# the Cat-Seg experiments, paper Table 4).
_base_ = './eva_vitb16_coco.py'

model = dict(
    student=dict(
        _delete_=True,
        type='mmclipself.OpenAICLIPViT',
        arch='vit-b16',
        pretrained='open_clip://ViT-B-16-quickgelu/openai',
        train_blocks='all'))

val_evaluator = dict(
    text_embeddings='data/embeddings/coco_panoptic_openai-vitb16.pt')
test_evaluator = val_evaluator
