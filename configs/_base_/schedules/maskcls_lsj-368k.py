# MMDetection's Mask2Former COCO panoptic recipe
# (mmdet::mask2former/mask2former_r50_8xb2-lsj-50e_coco-panoptic.py,
# segmentation facts §4): batch 16 (8 GPUs x 2), 368,750 iterations
# (~50 COCO epochs), AdamW lr 1e-4, weight decay 0.05, eps 1e-8, the
# backbone at lr x0.1, no weight decay on norms and on the query / level
# embeddings, gradient clipping at L2 norm 0.01, x0.1 steps at 327,778 and
# 355,092, validation and a checkpoint every 5000 iterations.
#
# The runtime (MMDetection's scope, _base_/det_runtime.py) is inherited
# here, because MMEngine allows only one base per key: the iteration-based
# checkpoint / logger hooks below must override det_runtime's
# `default_hooks`, so the leaf configs list this file instead of
# det_runtime.py.
_base_ = '../det_runtime.py'

max_iters = 368750
interval = 5000
train_cfg = dict(
    type='IterBasedTrainLoop',
    max_iters=max_iters,
    val_interval=interval,
    # MMDetection: after the last full interval, validate at the end only
    dynamic_intervals=[(max_iters // interval * interval + 1, max_iters)])
val_cfg = dict(type='ValLoop')
test_cfg = dict(type='TestLoop')

# MMEngine applies only the longest custom key contained in a parameter's
# name: the keys below never overlap.
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
            # the ImageNet ResNet-50; the CLIP-ViT pyramid configs reset it
            # to 1.0 (its trainable layers are new, the tower is frozen)
            'backbone': dict(lr_mult=0.1, decay_mult=1.0),
            'query_embed': embed_multi,
            'query_feat': embed_multi,
            'level_embed': embed_multi,
            # the learned void embedding of the open-vocabulary class head,
            # an embedding like the queries (FC-CLIP's is an nn.Embedding,
            # which detectron2 keeps out of weight decay)
            'void_embedding': embed_multi,
        },
        norm_decay_mult=0.0),
    clip_grad=dict(max_norm=0.01, norm_type=2))

param_scheduler = dict(
    type='MultiStepLR',
    begin=0,
    end=max_iters,
    by_epoch=False,
    milestones=[327778, 355092],
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

# the recipe's total batch is 16: `dist_train.sh CONFIG 8` with 2 images
# per GPU (the dataset configs' batch size), or `--auto-scale-lr`
auto_scale_lr = dict(enable=False, base_batch_size=16)
