# CLIPSelf on any folder of images (or a .txt list of paths via ann_file),
# e.g. web images as in paper Table 8 (CC3M). Corrupt files are skipped with
# a warning that counts them.
_base_ = './clipself_coco.py'

data_root = 'data/images/'
train_dataloader = dict(
    dataset=dict(
        data_root=data_root, ann_file='', data_prefix=dict(img_path='')))
val_dataloader = dict(
    dataset=dict(
        data_root=data_root, ann_file='', data_prefix=dict(img_path='')))
test_dataloader = val_dataloader
