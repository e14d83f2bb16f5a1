# Cat-Seg 2023 (the version the CLIPSelf paper used, segmentation facts
# §2.1, CLIPSelf #4) on OpenAI CLIP ViT-B/16 with a ResNet-101 guidance
# backbone: visual attention + position embedding fine-tuned, frozen text
# tower (a frozen part, left out of checkpoints), 80 ImageNet templates,
# no class padding.
_base_ = './catseg_openai-vitb16_cvpr.py'

model = dict(
    clip_tower=dict(
        out_indices=(),  # no taps: the guidance comes from the backbone
        # 2023 (and CLIPSelf) run the value-only last block with each
        # token's own skip (facts §1.1)
        dense_residual='token',
        # every visual attention parameter (q/k/v weights and biases,
        # out_proj) + the position embedding (facts §2.1)
        train_patterns=[
            'visual.transformer.resblocks.*.attn.*',
            'visual.positional_embedding'
        ]),
    text_encoder=dict(train_patterns=None),  # frozen (facts §2.1)
    tap_guidance=None,
    # detectron2 R101 res2-res4 (facts §2.1: STRIDE_IN_1X1 False = pytorch
    # style, FREEZE_AT 0); its learning rate is x0.01 (the schedule's
    # `guidance_backbone` lr_mult). Frozen BN statistics are our choice
    # (detectron2's FrozenBN default; unverified for the release).
    guidance_backbone=dict(
        type='ResNet',
        depth=101,
        num_stages=3,
        strides=(1, 2, 2),
        dilations=(1, 1, 1),
        out_indices=(0, 1, 2),  # res2 @96, res3 @48, res4 @24 at 384
        style='pytorch',
        norm_cfg=dict(type='BN', requires_grad=False),
        norm_eval=True,
        init_cfg=dict(type='Pretrained',
                      checkpoint='torchvision://resnet101')),
    # input resized to 384x384, ImageNet normalisation (facts §2.1, §1.2)
    guidance_resolution=(384, 384),
    guidance_mean=[123.675, 116.28, 103.53],
    guidance_std=[58.395, 57.12, 57.375],
    decode_head=dict(
        # C_app = res4 1024 @24; decoder guidance res3 512 @48, res2 256
        # @96 (facts §2.2)
        appearance_channels=1024,
        decoder_guidance_channels=(512, 256),
        num_templates=80,  # P = 80 kept as channels (facts §1.5)
        pad_len=None),  # no padding / top-k in 2023 (facts §2.2)
    # 80 ImageNet templates, synonyms averaged per template (facts §1.5)
    templates='imagenet',
    synonyms='mean')
