# F-ViT with the original EVA02-CLIP ViT-B/16 on OV-LVIS (paper Table A8
# "F-ViT", ViT-B/16: 11.5 mask APr). 8 GPUs x 8 images, 1024 x 1024, 48
# epochs, with a class-agnostic mask head.
_base_ = [
    '../_base_/models/fvit_eva-vitb16.py',
    '../_base_/datasets/ov_lvis_instance.py',
    '../_base_/schedules/fvit_48e.py', '../_base_/det_runtime.py'
]

# tools/generate_text_embeddings.py --dataset lvis --background
#   --model EVA02-B-16
vocabulary = 'data/text_embeddings/eva02-b16_lvis.pt'
model = dict(
    # release OV-LVIS: SyncBN in the RPN's two shared convs
    rpn_head=dict(
        type='mmclipself.NormedRPNHead', norm_cfg={{_base_.norm_cfg}}),
    data_preprocessor=dict(pad_size_divisor=1024),
    roi_head=dict(
        bbox_head=dict(
            cls_predictor_cfg=dict(embeddings=vocabulary),
            # categories with images in the base-only training file (its
            # small category-only copy, written by build_ov_lvis.py): the
            # 337 rare ones have none and get no gradient (release)
            base_classes='data/lvis_v1/annotations/'
            'lvis_v1_train_seen_1203_cat_categories.json',
            bg_weight=0.9),  # release: background weight 0.9 on OV-LVIS
        # release OV-LVIS ViT-B/16 fusion
        clip_fusion=dict(temperature=50.0, alpha=0.1, beta=0.6),
        # release: FCNMaskHead, 4 convs, class-agnostic, RoI 14, mask 28
        mask_roi_extractor=dict(
            type='SingleRoIExtractor',
            roi_layer=dict(type='RoIAlign', output_size=14, sampling_ratio=0),
            out_channels=256,
            featmap_strides=[4, 8, 16, 32]),
        mask_head=dict(
            type='FCNMaskHead',
            num_convs=4,
            in_channels=256,
            conv_out_channels=256,
            num_classes=1203,
            class_agnostic=True,
            norm_cfg={{_base_.norm_cfg}},
            loss_mask=dict(
                type='CrossEntropyLoss', use_mask=True, loss_weight=1.0))),
    # release LVIS test settings: score 1e-4, NMS 0.5, 300 detections
    test_cfg=dict(
        rcnn=dict(
            score_thr=0.0001,
            nms=dict(type='nms', iou_threshold=0.5),
            max_per_img=300,
            mask_thr_binary=0.5)))
