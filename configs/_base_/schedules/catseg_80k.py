# Cat-Seg's release schedule, both versions (segmentation facts §2.3):
# batch 4 in total (4 GPUs x 1), 80k iterations (~2.7 COCO-Stuff epochs),
# AdamW lr 2e-4, weight decay 1e-4 and none on norms (nor on nn.Embedding
# modules, of which Cat-Seg has none), CLIP
# parameters (image and text towers) at lr x 0.01 = 2e-6, cosine decay to 0
# without warm-up, gradient clipping of the whole model at L2 norm 0.01,
# fp32 (AMP off). Validation every 5000 iterations on COCO-Stuff val, as
# the release does (it "pretty much correlates" with the final scores,
# CAT-Seg #35).
max_iters = 80000
val_interval = 5000
train_cfg = dict(
    type='IterBasedTrainLoop', max_iters=max_iters, val_interval=val_interval)
val_cfg = dict(type='ValLoop')
test_cfg = dict(type='TestLoop')

optim_wrapper = dict(
    type='OptimWrapper',
    optimizer=dict(type='AdamW', lr=2e-4, weight_decay=1e-4),
    # whole-model L2 clipping (detectron2 CLIP_TYPE full_model, 0.01)
    clip_grad=dict(max_norm=0.01, norm_type=2),
    paramwise_cfg=dict(
        norm_decay_mult=0.0,  # WEIGHT_DECAY_NORM 0
        bias_decay_mult=1.0,
        custom_keys={
            # CLIP_MULTIPLIER 0.01 on everything of the CLIP model
            'clip_tower': dict(lr_mult=0.01),
            'text_encoder': dict(lr_mult=0.01),
            # 2023 B/16's ResNet-101 (BACKBONE_MULTIPLIER 0.01); the L/14
            # Swin-B is frozen (multiplier 0.0, facts §2.1)
            'guidance_backbone': dict(lr_mult=0.01),
            # WEIGHT_DECAY_EMBED 0 applies to nn.Embedding modules only
            # (detectron2's build_optimizer): CLIP's position embedding is
            # a plain parameter and keeps weight decay 1e-4
        }))

param_scheduler = [
    dict(
        type='CosineAnnealingLR',
        eta_min=0.0,
        T_max=max_iters,
        begin=0,
        end=max_iters,
        by_epoch=False)
]

# The release's total batch is 4: `dist_train.sh CONFIG 4` with the
# configs' 1 image per GPU, or `--auto-scale-lr` for another total.
auto_scale_lr = dict(enable=False, base_batch_size=4)
# Checkpoints every 5000 iterations (with each validation) come from
# _base_/seg_runtime.py: one base only may set `default_hooks`.
