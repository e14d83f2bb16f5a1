# F-ViT on OV-COCO (paper A.3, reference facts §1): AdamW lr 1e-4 at batch
# 64, weight decay 0.1, gradient clipping 1.0, 250 linear warm-up iterations
# from 1e-3, fp16 with loss scale 512, 3 epochs. The release's step at epoch
# 100 never happens, so the LR stays constant; it notes epoch 2 is often the
# best, which is why every epoch is evaluated and kept.
max_epochs = 3
train_cfg = dict(
    type='EpochBasedTrainLoop', max_epochs=max_epochs, val_interval=1)
val_cfg = dict(type='ValLoop')
test_cfg = dict(type='TestLoop')

optim_wrapper = dict(
    type='AmpOptimWrapper',
    loss_scale=512.,
    optimizer=dict(type='AdamW', lr=1e-4, weight_decay=0.1),
    clip_grad=dict(max_norm=1.0, norm_type=2))

param_scheduler = [
    dict(type='LinearLR', start_factor=1e-3, by_epoch=False, begin=0, end=250),
]

# `--auto-scale-lr` rescales lr 1e-4 for total batches other than 64
auto_scale_lr = dict(enable=False, base_batch_size=64)
