# F-ViT on OV-LVIS (paper A.3, reference facts §1): AdamW lr 1e-4 at batch
# 64, weight decay 0.1, gradient clipping 1.0, 250 linear warm-up iterations
# from 1e-3, fp16 with loss scale 512, 48 epochs with x0.1 steps after
# epochs 32 and 44.
max_epochs = 48
train_cfg = dict(
    type='EpochBasedTrainLoop', max_epochs=max_epochs, val_interval=4)
val_cfg = dict(type='ValLoop')
test_cfg = dict(type='TestLoop')

optim_wrapper = dict(
    type='AmpOptimWrapper',
    loss_scale=512.,
    optimizer=dict(type='AdamW', lr=1e-4, weight_decay=0.1),
    clip_grad=dict(max_norm=1.0, norm_type=2))

param_scheduler = [
    dict(type='LinearLR', start_factor=1e-3, by_epoch=False, begin=0, end=250),
    dict(
        type='MultiStepLR',
        begin=0,
        end=max_epochs,
        by_epoch=True,
        milestones=[32, 44],
        gamma=0.1),
]

auto_scale_lr = dict(enable=False, base_batch_size=64)
