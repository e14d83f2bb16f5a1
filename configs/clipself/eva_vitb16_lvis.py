# CLIPSelf EVA02-CLIP ViT-B/16 on LVIS v1 train images (for OV-LVIS, paper
# §4.1 / Table 3). LVIS lists COCO images by URL (train2017/ and val2017/),
# so the image prefix is the COCO root.
_base_ = './eva_vitb16_coco.py'

train_dataloader = dict(
    dataset=dict(
        ann_file='annotations/lvis_v1_train.json',
        data_prefix=dict(img_path='')))
