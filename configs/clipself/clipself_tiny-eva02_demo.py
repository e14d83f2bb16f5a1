# The `make demo` job: CLIPSelf on a tiny EVA02-CLIP-shaped tower with random
# weights, a handful of real photos, 2 CPU cores, a few minutes. It shows the
# mechanics (region-to-crop alignment rises), not the published numbers.
_base_ = [
    '../_base_/default_runtime.py',
    '../_base_/datasets/clipself_image_folder.py',
]

model = dict(
    type='mmclipself.CLIPSelfDistiller',
    student=dict(
        type='mmclipself.EVA02CLIPViT',
        # EVA02 structure (SwiGLU, sub-LN, RoPE with a 16x16 reference grid)
        # at a size a CPU trains in minutes.
        arch=dict(
            img_size=64,
            patch_size=16,
            embed_dim=128,
            depth=4,
            num_heads=2,
            qkv_fused=False,
            mlp_ratio=4 * 2 / 3,
            swiglu_mlp=True,
            scale_mlp=True,
            scale_attn_inner=True,
            use_rot_pos_emb=True,
            ref_feat_shape=(16, 16),
            num_classes=64),
        train_blocks='all'),
    data_preprocessor=dict(
        type='mmclipself.CLIPSelfDataPreprocessor',
        student_size=256,
        crop_size=64),
)

train_dataloader = dict(
    batch_size=2,
    num_workers=0,
    persistent_workers=False,
    sampler=dict(type='InfiniteSampler', shuffle=True))
val_dataloader = dict(num_workers=0, persistent_workers=False)
test_dataloader = val_dataloader

train_cfg = dict(type='IterBasedTrainLoop', max_iters=60, val_interval=1000)
val_cfg = dict(type='ValLoop')
test_cfg = dict(type='TestLoop')
optim_wrapper = dict(
    type='OptimWrapper',
    optimizer=dict(
        type='AdamW', lr=1e-3, weight_decay=0.1, betas=(0.9, 0.999)))
param_scheduler = [
    dict(type='LinearLR', start_factor=0.1, by_epoch=False, begin=0, end=10),
    dict(type='CosineAnnealingLR', by_epoch=False, begin=0, end=60, T_max=60),
]
default_hooks = dict(
    logger=dict(type='LoggerHook', interval=10),
    checkpoint=dict(type='CheckpointHook', interval=60, by_epoch=False))
log_processor = dict(by_epoch=False)
randomness = dict(seed=0)
custom_hooks = [dict(type='mmclipself.StudentTeacherBlendHook', alpha=0.7)]
