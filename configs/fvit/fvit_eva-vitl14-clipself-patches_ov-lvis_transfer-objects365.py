# Transfer (paper Table A8, reference facts §1): the OV-LVIS F-ViT with the
# CLIPSelf EVA02-CLIP ViT-L/14 tested on Objects365 v1 val (365 classes)
# without retraining.
_base_ = './fvit_eva-vitl14_ov-lvis.py'

clipself_weights = '{{$CLIPSELF_CHECKPOINTS:checkpoints}}/' \
    'eva_vitl14_lvis_clipself_patches.pt'
# tools/generate_text_embeddings.py --dataset objects365 --background
#   --model EVA02-L-14-336
vocabulary = 'data/text_embeddings/eva02-l14-336_objects365.pt'
model = dict(
    backbone=dict(clip=dict(pretrained=clipself_weights)),
    roi_head=dict(
        bbox_head=dict(
            num_classes=None,
            # release transfer head: detector temperature fixed at 50
            cls_predictor_cfg=dict(
                embeddings=vocabulary, test_temperature=50.0),
            base_classes=None),
        # release transfer head: CLIP temperature 120, alpha 0.3 on O365
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
data_root = 'data/Objects365/Obj365_v1/'  # MMDetection's layout
test_dataloader = dict(
    dataset=dict(
        _delete_=True,
        type='Objects365V1Dataset',
        data_root=data_root,
        ann_file='annotations/objects365_val.json',
        data_prefix=dict(img='val/'),
        test_mode=True,
        pipeline=test_pipeline))
val_dataloader = test_dataloader
test_evaluator = dict(
    _delete_=True,
    type='CocoMetric',
    ann_file=data_root + 'annotations/objects365_val.json',
    metric='bbox')
val_evaluator = test_evaluator
