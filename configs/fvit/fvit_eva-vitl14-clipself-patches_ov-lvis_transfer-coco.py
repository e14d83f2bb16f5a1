# Transfer (paper Table A8, reference facts §1): the OV-LVIS F-ViT with the
# CLIPSelf EVA02-CLIP ViT-L/14 tested on COCO val2017 (80 classes) without
# retraining: only the vocabulary, the data and the fusion change.
#   python tools/test.py THIS_CONFIG work_dirs/<ov-lvis run>/epoch_48.pth
_base_ = './fvit_eva-vitl14_ov-lvis.py'

clipself_weights = '{{$CLIPSELF_CHECKPOINTS:checkpoints}}/' \
    'eva_vitl14_lvis_clipself_patches.pt'
# tools/generate_text_embeddings.py --dataset coco --background
#   --model EVA02-L-14-336
vocabulary = 'data/text_embeddings/eva02-l14-336_coco.pt'
model = dict(
    backbone=dict(clip=dict(pretrained=clipself_weights)),
    roi_head=dict(
        bbox_head=dict(
            num_classes=None,  # the vocabulary's size
            # release transfer head: detector temperature fixed at 50
            cls_predictor_cfg=dict(
                embeddings=vocabulary, test_temperature=50.0),
            base_classes=None),  # one CLIP weight for every class
        # release transfer head: CLIP temperature 120, alpha 0.2 on COCO
        clip_fusion=dict(temperature=120.0, alpha=0.2, beta=0.2)),
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
        type='CocoDataset',
        data_root='data/coco/',
        ann_file='annotations/instances_val2017.json',
        data_prefix=dict(img='val2017/'),
        test_mode=True,
        pipeline=test_pipeline))
val_dataloader = test_dataloader
test_evaluator = dict(
    _delete_=True,
    type='CocoMetric',
    ann_file='data/coco/annotations/instances_val2017.json',
    metric='bbox')
val_evaluator = test_evaluator
