# Cat-Seg 2023 on OpenAI CLIP ViT-L/14@336px with a frozen Swin-B guidance
# backbone (segmentation facts §2.1): the 2023 recipe of
# catseg_openai-vitb16_2023.py with the L/14 tower and Swin-B.
_base_ = './catseg_openai-vitb16_cvpr.py'

model = dict(
    clip_tower=dict(
        arch='vit-l14-336',
        pretrained='open_clip://ViT-L-14-336-quickgelu/openai',
        out_indices=(),
        dense_residual='token',  # 2023's per-token skip (facts §1.1)
        # every visual attention parameter + position embedding (§2.1)
        train_patterns=[
            'visual.transformer.resblocks.*.attn.*',
            'visual.positional_embedding'
        ]),
    text_encoder=dict(
        model_name='ViT-L-14-336-quickgelu',
        pretrained='open_clip://ViT-L-14-336-quickgelu/openai',
        train_patterns=None),  # frozen (facts §2.1)
    tap_guidance=None,
    # D2SwinTransformer Swin-B: embed 128, depths [2, 2, 18], heads
    # [4, 8, 16], window 12, ImageNet-22k 384 weights (facts §2.1), as
    # MMSegmentation's SwinTransformer with its Swin-B 22k-384 checkpoint
    guidance_backbone=dict(
        type='SwinTransformer',
        pretrain_img_size=384,
        embed_dims=128,
        patch_size=4,
        window_size=12,
        depths=(2, 2, 18),
        num_heads=(4, 8, 16),
        strides=(4, 2, 2),
        out_indices=(0, 1, 2),  # 128 @96, 256 @48, 512 @24 at 384
        drop_path_rate=0.0,  # frozen, always in eval mode
        init_cfg=dict(
            type='Pretrained',
            checkpoint='https://download.openmmlab.com/mmsegmentation/v0.5/'
            'pretrain/swin/swin_base_patch4_window12_384_22k_20220317-'
            'e5c09f74.pth')),
    # BACKBONE_MULTIPLIER 0.0 = frozen (facts §2.1): a frozen part
    freeze_guidance_backbone=True,
    guidance_resolution=(384, 384),
    guidance_mean=[123.675, 116.28, 103.53],
    guidance_std=[58.395, 57.12, 57.375],
    decode_head=dict(
        # L + Swin-B: C_txt 768, C_app 512, decoder guidance [256, 128]
        # (facts §2.2)
        text_channels=768,
        appearance_channels=512,
        decoder_guidance_channels=(256, 128),
        num_templates=80,
        pad_len=None),
    clip_resolution=(336, 336),
    templates='imagenet',
    synonyms='mean')
