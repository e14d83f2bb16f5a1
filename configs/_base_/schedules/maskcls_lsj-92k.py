# A short schedule (NOT from a paper or a release): MMDetection's Mask2Former
# COCO panoptic recipe (./maskcls_lsj-368k.py, segmentation facts §4) at a
# quarter of its length, 92,188 iterations (~12.5 COCO epochs at batch 16),
# the x0.1 steps at the same fractions (327,778 / 4 and 355,092 / 4). A
# quarter because that is the iteration count of ODISE's COCO panoptic
# training (facts §3.6), though ODISE's batch is 64, not 16: expect lower PQ
# than the full schedule; it is for quick comparisons of CLIP towers.
#
# MMEngine allows one base per key and limits configs to depth 3 here, so
# this file repeats the full schedule's optimiser and hooks
# (tests/test_configs/test_maskcls_configs.py checks that the two agree
# except for the iteration counts).
_base_ = '../det_runtime.py'

max_iters = 92188
interval = 5000
train_cfg = dict(
    type='IterBasedTrainLoop',
    max_iters=max_iters,
    val_interval=interval,
    dynamic_intervals=[(max_iters // interval * interval + 1, max_iters)])
val_cfg = dict(type='ValLoop')
test_cfg = dict(type='TestLoop')

embed_multi = dict(lr_mult=1.0, decay_mult=0.0)
optim_wrapper = dict(
    type='OptimWrapper',
    optimizer=dict(
        type='AdamW',
        lr=0.0001,
        weight_decay=0.05,
        eps=1e-8,
        betas=(0.9, 0.999)),
    paramwise_cfg=dict(
        custom_keys={
            'backbone': dict(lr_mult=0.1, decay_mult=1.0),
            'query_embed': embed_multi,
            'query_feat': embed_multi,
            'level_embed': embed_multi,
            'void_embedding': embed_multi,
        },
        norm_decay_mult=0.0),
    clip_grad=dict(max_norm=0.01, norm_type=2))

param_scheduler = dict(
    type='MultiStepLR',
    begin=0,
    end=max_iters,
    by_epoch=False,
    milestones=[81945, 88773],  # 327778 / 4, 355092 / 4, rounded
    gamma=0.1)

default_hooks = dict(
    logger=dict(type='LoggerHook', interval=50, log_metric_by_epoch=False),
    checkpoint=dict(
        type='CheckpointHook',
        by_epoch=False,
        save_last=True,
        max_keep_ckpts=3,
        interval=interval))
log_processor = dict(type='LogProcessor', window_size=50, by_epoch=False)

auto_scale_lr = dict(enable=False, base_batch_size=16)
