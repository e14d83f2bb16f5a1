# CLIPSelf EVA02-CLIP ViT-L/14-336 on LVIS v1 train images (for OV-LVIS).
_base_ = './eva_vitl14_coco.py'

train_dataloader = dict(
    dataset=dict(
        ann_file='annotations/lvis_v1_train.json',
        data_prefix=dict(img_path='')))
