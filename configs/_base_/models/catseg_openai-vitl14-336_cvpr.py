# Cat-Seg CVPR'24 on OpenAI CLIP ViT-L/14@336px (segmentation facts §2):
# the B/16 recipe with the L/14 taps, widths and CLIP resolution.
_base_ = './catseg_openai-vitb16_cvpr.py'

model = dict(
    clip_tower=dict(
        arch='vit-l14-336',
        pretrained='open_clip://ViT-L-14-336-quickgelu/openai',
        out_indices=(7, 15)),  # resblocks[7] and [15] for L/14 (§2.1)
    text_encoder=dict(
        model_name='ViT-L-14-336-quickgelu',
        pretrained='open_clip://ViT-L-14-336-quickgelu/openai'),
    tap_guidance=dict(in_channels=1024),  # ViT-L width (facts §2.1)
    # C_txt / C_app 768, decoder guidance [256, 128] (facts §2.2)
    decode_head=dict(text_channels=768, appearance_channels=768),
    # 336x336 input -> 24x24 grid for L/14 (facts §2.1)
    clip_resolution=(336, 336))
