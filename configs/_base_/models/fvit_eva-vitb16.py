# F-ViT (paper §4.3 and A.3, reference facts §1) on a frozen EVA02-CLIP
# ViT-B/16: the base of the F-ViT model family. The model is built in
# MMDetection's scope (`_scope_`, whatever the default scope), so nested
# MMDetection types resolve as in any MMDetection config; mmclipself's own
# modules are the only prefixed names (`mmclipself.X`).
#
# The vocabulary is a text-embedding file written by
#   python tools/generate_text_embeddings.py --dataset coco65 --background \
#       --model EVA02-B-16 \
#       --pretrained open_clip://EVA02-B-16/merged2b_s8b_b131k \
#       --out data/text_embeddings/eva02-b16_coco65.pt
# Benchmark configs set it; it is never stored in checkpoints.
norm_cfg = dict(type='SyncBN', requires_grad=True)  # release: SyncBN
model = dict(
    _scope_='mmdet',
    type='mmclipself.FViT',
    data_preprocessor=dict(
        type='DetDataPreprocessor',
        # release: ImageNet mean/std, not CLIP's (reference facts §1); CLIM's
        # port uses CLIP's: mean [122.77, 116.75, 104.09], std [68.50,
        # 66.63, 70.32]
        mean=[123.675, 116.28, 103.53],
        std=[58.395, 57.12, 57.375],
        bgr_to_rgb=True,
        # pads every (resized) image to the square input size after
        # normalisation, like the release's Normalize -> Pad; benchmark
        # configs set it to their image size
        pad_size_divisor=640,
        pad_mask=True),
    backbone=dict(
        type='mmclipself.CLIPViTPyramid',
        clip=dict(
            type='mmclipself.EVA02CLIPViT',
            arch='eva02-b16',
            pretrained='open_clip://EVA02-B-16/merged2b_s8b_b131k'),
        out_indices=(3, 5, 7, 11),  # paper A.3 for ViT-B/16
        pyramid='convt',  # release; 'interpolate' is the paper's wording
        norm_cfg=norm_cfg),
    neck=dict(
        type='FPN',
        in_channels=[768, 768, 768, 768],
        out_channels=256,
        num_outs=5,
        norm_cfg=norm_cfg),
    rpn_head=dict(
        type='RPNHead',
        in_channels=256,
        feat_channels=256,
        num_convs=2,  # release
        anchor_generator=dict(
            type='AnchorGenerator',
            scales=[8],
            ratios=[0.5, 1.0, 2.0],
            strides=[4, 8, 16, 32, 64]),
        bbox_coder=dict(
            type='DeltaXYWHBBoxCoder',
            target_means=[0.0, 0.0, 0.0, 0.0],
            target_stds=[1.0, 1.0, 1.0, 1.0]),
        loss_cls=dict(
            type='CrossEntropyLoss', use_sigmoid=True, loss_weight=1.0),
        loss_bbox=dict(type='L1Loss', loss_weight=1.0)),
    roi_head=dict(
        type='mmclipself.FViTRoIHead',
        bbox_roi_extractor=dict(
            type='SingleRoIExtractor',
            roi_layer=dict(type='RoIAlign', output_size=7, sampling_ratio=0),
            out_channels=256,
            featmap_strides=[4, 8, 16, 32]),
        bbox_head=dict(
            type='mmclipself.OVConvFCBBoxHead',
            num_classes=None,  # the vocabulary file's size
            in_channels=256,
            # release "Shared4Conv2FC": 4 shared convs and 2 shared fcs
            # (the ReLU of the last one kept), then the text classifier and
            # a class-agnostic box regressor
            num_shared_convs=4,
            num_shared_fcs=2,
            conv_out_channels=256,
            fc_out_channels=512,  # the CLIP embedding width of ViT-B/16
            roi_feat_size=7,
            norm_cfg=norm_cfg,
            reg_class_agnostic=True,
            bbox_coder=dict(
                type='DeltaXYWHBBoxCoder',
                target_means=[0.0, 0.0, 0.0, 0.0],
                target_stds=[0.1, 0.1, 0.2, 0.2]),
            cls_predictor_cfg=dict(
                type='mmclipself.TextEmbeddingClassifier',
                embeddings=None,
                temperature=50.0),  # learned from 50 (release)
            loss_cls=dict(
                type='CrossEntropyLoss', use_sigmoid=False, loss_weight=1.0),
            loss_bbox=dict(type='L1Loss', loss_weight=1.0))),
    train_cfg=dict(
        rpn=dict(
            assigner=dict(
                type='MaxIoUAssigner',
                pos_iou_thr=0.7,
                neg_iou_thr=0.3,
                min_pos_iou=0.3,
                match_low_quality=True,
                ignore_iof_thr=-1),
            sampler=dict(
                type='RandomSampler',
                num=256,
                pos_fraction=0.5,
                neg_pos_ub=-1,
                add_gt_as_proposals=False),
            allowed_border=-1,
            pos_weight=-1,
            debug=False),
        rpn_proposal=dict(
            nms_pre=2000,
            max_per_img=1000,
            nms=dict(type='nms', iou_threshold=0.7),
            min_bbox_size=0),
        rcnn=dict(
            assigner=dict(
                type='MaxIoUAssigner',
                pos_iou_thr=0.5,
                neg_iou_thr=0.5,
                min_pos_iou=0.5,
                match_low_quality=False,
                ignore_iof_thr=-1),
            sampler=dict(
                type='RandomSampler',
                num=512,
                pos_fraction=0.25,
                neg_pos_ub=-1,
                add_gt_as_proposals=True),
            mask_size=28,
            pos_weight=-1,
            debug=False)),
    test_cfg=dict(
        rpn=dict(
            nms_pre=1000,
            max_per_img=1000,
            nms=dict(type='nms', iou_threshold=0.7),
            min_bbox_size=0),
        rcnn=dict(
            score_thr=0.01,
            nms=dict(type='nms', iou_threshold=0.4),
            max_per_img=100)))
