# CLIPSelf on OpenAI CLIP ViT-L/14 (224) with COCO image patches (Cat-Seg's
# ViT-L, paper Table 4); student at 896 like the EVA L/14, crops at 224.
_base_ = './eva_vitb16_coco.py'

model = dict(
    student=dict(
        _delete_=True,
        type='mmclipself.OpenAICLIPViT',
        arch='vit-l14',
        pretrained='open_clip://ViT-L-14-quickgelu/openai',
        train_blocks='all'),
    data_preprocessor=dict(student_size=896, crop_size=224))

custom_hooks = [dict(type='mmclipself.StudentTeacherBlendHook', alpha=0.95)]

val_evaluator = dict(
    text_embeddings='data/embeddings/coco_panoptic_openai-vitl14.pt')
test_evaluator = val_evaluator
