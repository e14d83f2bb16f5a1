# Transfer (paper Table A8, reference facts §1): the OV-LVIS F-ViT with the
# CLIPSelf EVA02-CLIP ViT-L/14 tested on Pascal VOC 2007 test (20 classes)
# without retraining; VOC07 AP50 (11-point).
_base_ = './fvit_eva-vitl14_ov-lvis.py'

clipself_weights = '{{$CLIPSELF_CHECKPOINTS:checkpoints}}/' \
    'eva_vitl14_lvis_clipself_patches.pt'
# tools/generate_text_embeddings.py --dataset voc --background
#   --model EVA02-L-14-336
vocabulary = 'data/text_embeddings/eva02-l14-336_voc.pt'
model = dict(
    backbone=dict(clip=dict(pretrained=clipself_weights)),
    roi_head=dict(
        bbox_head=dict(
            num_classes=None,
            # release transfer head: detector temperature fixed at 50
            cls_predictor_cfg=dict(
                embeddings=vocabulary, test_temperature=50.0),
            base_classes=None),
        # release transfer head: CLIP temperature 120, alpha 0.3 on VOC
        clip_fusion=dict(temperature=120.0, alpha=0.3, beta=0.3)),
    test_cfg=dict(rcnn=dict(max_per_img=100)))

image_size = (896, 896)
test_pipeline = [
    dict(type='LoadImageFromFile'),
    dict(type='Resize', scale=image_size, keep_ratio=True),
    dict(type='LoadAnnotations', with_bbox=True),
    dict(
        type='PackDetInputs',
        meta_keys=('img_id', 'img_path', 'ori_shape', 'img_shape',
                   'scale_factor')),
]
test_dataloader = dict(
    dataset=dict(
        _delete_=True,
        type='VOCDataset',
        data_root='data/VOCdevkit/',
        ann_file='VOC2007/ImageSets/Main/test.txt',
        data_prefix=dict(sub_data_root='VOC2007/'),
        test_mode=True,
        pipeline=test_pipeline))
val_dataloader = test_dataloader
test_evaluator = dict(
    _delete_=True, type='VOCMetric', metric='mAP', eval_mode='11points')
val_evaluator = test_evaluator
