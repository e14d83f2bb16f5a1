# CLIPSelf EVA02-CLIP ViT-B/16 on web images (paper Table 8: CC3M): an image
# folder, or a .txt list of image paths via ann_file.
_base_ = './eva_vitb16_coco.py'

train_dataloader = dict(
    dataset=dict(
        data_root='data/cc3m/',
        ann_file='',  # or 'train_list.txt'
        data_prefix=dict(img_path='images/')))
