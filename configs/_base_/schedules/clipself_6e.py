# CLIPSelf self-distillation schedule. Follows the official release
# (reference facts §2): 6 epochs at a total batch of 16 (8 GPUs x 2 images),
# AdamW lr 1e-5, weight decay 0.1, cosine decay after 1000 linear warm-up
# iterations, AMP. The release's betas fall back to (0.9, 0.999), eps 1e-8.
max_epochs = 6
train_cfg = dict(
    type='EpochBasedTrainLoop', max_epochs=max_epochs, val_interval=1)
val_cfg = dict(type='ValLoop')
test_cfg = dict(type='TestLoop')

optim_wrapper = dict(
    type='AmpOptimWrapper',
    optimizer=dict(
        type='AdamW', lr=1e-5, weight_decay=0.1, betas=(0.9, 0.999), eps=1e-8),
    # Release: no weight decay on 1-d tensors (norms, biases) nor logit scale.
    paramwise_cfg=dict(
        norm_decay_mult=0., bias_decay_mult=0., flat_decay_mult=0.),
)

param_scheduler = [
    # 1000 warm-up steps, as in the release's training scripts. MMEngine
    # multiplies chained factors, so the cosine already runs during warm-up;
    # the release starts it after warm-up. On COCO (7.4k iters/epoch at batch
    # 16) that changes the LR by < 0.2% at any step.
    dict(
        type='LinearLR', start_factor=1e-3, by_epoch=False, begin=0, end=1000),
    dict(
        type='CosineAnnealingLR',
        by_epoch=True,
        begin=0,
        end=max_epochs,
        T_max=max_epochs,
        convert_to_iter_based=True,
        eta_min=0.),
]

# The release trains on 8 GPUs x 2 images; --auto-scale-lr rescales the LR
# linearly for other total batch sizes.
auto_scale_lr = dict(enable=False, base_batch_size=16)
