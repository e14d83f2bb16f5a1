# Open-vocabulary Mask2Former with CLIP mask classification (issue 11,
# CLIPSelf paper Table 5 protocol, segmentation facts §1.3-1.4, §3.6-3.8, §4)
# on an MMDetection ResNet-50 mask generator.
#
# The mask generator is MMDetection 3.3's Mask2Former R50 panoptic model
# (`mmdet::mask2former/mask2former_r50_8xb2-lsj-50e_coco-panoptic.py`, a full
# config with data and schedule, so its model is restated here; every number
# below is MMDetection's unless a comment says otherwise, facts §4) whose
# class head is open-vocabulary (query -> Linear to the CLIP width -> cosine
# with the vocabulary's text embeddings and a learned void embedding, times a
# learned temperature 1/0.07 clamped at 100, FC-CLIP / ODISE facts §3.6-3.7).
# At test time a frozen CLIP tower's dense map classifies every mask (mask
# pooling), fused with the in-vocab score (ODISE/FC-CLIP geometric ensemble).
#
# The model is built in MMDetection's scope (`_scope_`): MMDetection types are
# unprefixed, mmclipself's are `mmclipself.X`.
#
# Vocabularies are text-embedding files of the CLIP whose dense map is used
# (the same CLIP for the in-vocab head), never stored in checkpoints:
#   python tools/generate_text_embeddings.py --dataset coco_panoptic \
#       --model ViT-L-14-336-quickgelu \
#       --pretrained open_clip://ViT-L-14-336-quickgelu/openai \
#       --out data/text_embeddings/openai-l14-336_coco_panoptic.pt
# (`--rule panoptic` is the default for coco_panoptic: "wall-other-merged" ->
# "wall"). Test configs set `panoptic_head.test_vocabulary` (and
# `test_num_things_classes` for panoptic / instance outputs).
num_things_classes = 80  # COCO panoptic: 80 things first ...
num_stuff_classes = 53  # ... then 53 stuff (facts §4)
image_size = (1024, 1024)  # LSJ crop (facts §4)
batch_augments = [
    dict(
        type='BatchFixedSizePad',
        size=image_size,
        img_pad_value=0,
        pad_mask=True,
        mask_pad_value=0,
        pad_seg=True,
        seg_pad_value=255)  # ignored label of the semantic target
]
model = dict(
    _scope_='mmdet',
    type='mmclipself.OVMask2Former',
    data_preprocessor=dict(
        type='DetDataPreprocessor',
        # ImageNet mean/std for the ResNet (facts §1.2); the CLIP tower's
        # input is re-normalised to CLIP's mean/std inside the model
        mean=[123.675, 116.28, 103.53],
        std=[58.395, 57.12, 57.375],
        bgr_to_rgb=True,
        pad_size_divisor=32,  # ResNet stride 32
        pad_mask=True,
        mask_pad_value=0,
        pad_seg=True,
        seg_pad_value=255,
        batch_augments=batch_augments),
    backbone=dict(
        type='ResNet',
        depth=50,
        num_stages=4,
        out_indices=(0, 1, 2, 3),
        frozen_stages=-1,
        norm_cfg=dict(type='BN', requires_grad=False),
        norm_eval=True,
        style='pytorch',
        init_cfg=dict(type='Pretrained', checkpoint='torchvision://resnet50')),
    panoptic_head=dict(
        type='mmclipself.OVMask2FormerHead',
        # training vocabulary: COCO panoptic, 133 classes in the dataset's
        # order (things first); benchmark configs set the file
        vocabulary='data/text_embeddings/openai-l14-336_coco_panoptic.pt',
        test_vocabulary=None,  # default: the training vocabulary
        test_num_things_classes=None,
        num_things_classes=num_things_classes,
        num_stuff_classes=num_stuff_classes,
        # FC-CLIP / ODISE: logit scale init 1/0.07, exp clamped at 100
        classifier=dict(logit_scale_init=1 / 0.07, logit_scale_max=100.),
        void_weight=0.1,  # Mask2Former's no-object weight (facts §4)
        in_channels=[256, 512, 1024, 2048],  # ResNet-50 stages
        strides=[4, 8, 16, 32],
        feat_channels=256,
        out_channels=256,
        num_queries=100,  # facts §4 (FC-CLIP tests with 250)
        num_transformer_feat_level=3,
        pixel_decoder=dict(
            type='MSDeformAttnPixelDecoder',
            num_outs=3,
            norm_cfg=dict(type='GN', num_groups=32),
            act_cfg=dict(type='ReLU'),
            encoder=dict(
                num_layers=6,
                layer_cfg=dict(
                    self_attn_cfg=dict(
                        embed_dims=256,
                        num_heads=8,
                        num_levels=3,
                        num_points=4,
                        dropout=0.0,
                        batch_first=True),
                    ffn_cfg=dict(
                        embed_dims=256,
                        feedforward_channels=1024,
                        num_fcs=2,
                        ffn_drop=0.0,
                        act_cfg=dict(type='ReLU', inplace=True)))),
            positional_encoding=dict(num_feats=128, normalize=True)),
        enforce_decoder_input_project=False,
        positional_encoding=dict(num_feats=128, normalize=True),
        transformer_decoder=dict(
            return_intermediate=True,
            num_layers=9,
            layer_cfg=dict(
                self_attn_cfg=dict(
                    embed_dims=256, num_heads=8, dropout=0.0,
                    batch_first=True),
                cross_attn_cfg=dict(
                    embed_dims=256, num_heads=8, dropout=0.0,
                    batch_first=True),
                ffn_cfg=dict(
                    embed_dims=256,
                    feedforward_channels=2048,
                    num_fcs=2,
                    ffn_drop=0.0,
                    act_cfg=dict(type='ReLU', inplace=True))),
            init_cfg=None),
        loss_cls=dict(
            type='CrossEntropyLoss',
            use_sigmoid=False,
            loss_weight=2.0,
            reduction='mean',
            class_weight=None),  # [1.0] * 133 + [void_weight]
        loss_mask=dict(
            type='CrossEntropyLoss',
            use_sigmoid=True,
            reduction='mean',
            loss_weight=5.0),
        loss_dice=dict(
            type='DiceLoss',
            use_sigmoid=True,
            activate=True,
            reduction='mean',
            naive_dice=True,
            eps=1.0,
            loss_weight=5.0)),
    panoptic_fusion_head=dict(
        type='mmclipself.OVMaskFormerFusionHead',
        # the training split; the model resets both to the test vocabulary's
        num_things_classes=num_things_classes,
        num_stuff_classes=num_stuff_classes,
        loss_panoptic=None,
        init_cfg=None),
    # frozen CLIP tower of the dense map (Table 5: OpenAI ViT-L/14-336,
    # facts §3.8); a frozen part, not stored in checkpoints. Swap in a
    # CLIPSelf tower by `pretrained` (the mask generator is unchanged).
    clip_tower=dict(
        type='mmclipself.OpenAICLIPViT',
        arch='vit-l14-336',
        pretrained='open_clip://ViT-L-14-336-quickgelu/openai'),
    # 'fused' (Table 5 "fused"), 'clip_only' (Table 5 "CLIP-only"), or 'none'
    clip_mode='fused',
    # ODISE's default exponents (facts §1.4); FC-CLIP: 0.4 / 0.8
    score_fusion=dict(alpha=0.35, beta=0.65),
    clip_temperature=100.,  # CLIP's logit scale (exp clamped at 100)
    mask_pooling='binary',  # FC-CLIP: masks binarised at logit > 0 (§1.3)
    clip_scale=1.,  # CLIP at the test resolution, as FC-CLIP (facts §3.7)
    train_cfg=dict(
        num_points=12544,
        oversample_ratio=3.0,
        importance_sample_ratio=0.75,
        assigner=dict(
            type='HungarianAssigner',
            match_costs=[
                dict(type='ClassificationCost', weight=2.0),
                dict(
                    type='CrossEntropyLossCost', weight=5.0, use_sigmoid=True),
                dict(type='DiceCost', weight=5.0, pred_act=True, eps=1.0)
            ]),
        sampler=dict(type='MaskPseudoSampler')),
    test_cfg=dict(
        panoptic_on=True,
        semantic_on=False,  # ADE-150 semantic test configs switch it on
        instance_on=True,
        max_per_image=100,  # instance outputs per image
        # ODISE / FC-CLIP test with object_mask_threshold 0.0 and overlap
        # 0.8 (facts §3.6-3.7); MMDetection's default threshold (0.8) drops
        # most fused scores, which spread over more classes
        object_mask_thr=0.0,
        iou_thr=0.8,
        filter_low_score=True),  # Mask2Former: AND with sigmoid >= 0.5
    init_cfg=None)
