# Cat-Seg CVPR'24 recipe on EVA02-CLIP ViT-B/16 (not in the release: the
# CLIPSelf release publishes EVA02 towers only, segmentation facts §2.1).
# Same widths as OpenAI B/16 (768 wide, 512-d embeddings); the taps
# resblocks[3] / [7] follow the B/16 release by analogy (12 blocks).
_base_ = './catseg_openai-vitb16_cvpr.py'

model = dict(
    clip_tower=dict(
        _delete_=True,
        type='mmclipself.EVA02CLIPViT',
        arch='eva02-b16',
        pretrained='open_clip://EVA02-B-16/merged2b_s8b_b131k',
        out_indices=(3, 7),
        # raw map for the appearance guidance, as the CVPR'24 release; the
        # per-token skip of the value-only block (no EVA02 release to
        # follow; the CLIPSelf EVA02 towers are distilled with it)
        normalize_dense=False,
        dense_residual='token',
        # q and v weights only, as CVPR'24 (facts §2.1)
        train_patterns=['trunk.blocks.*.attn.[qv]_proj.weight']),
    text_encoder=dict(
        model_name='EVA02-B-16',
        pretrained='open_clip://EVA02-B-16/merged2b_s8b_b131k'))
