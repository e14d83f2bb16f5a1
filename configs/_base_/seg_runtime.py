# Runtime of the segmentation configs: mmclipself's defaults in
# MMSegmentation's scope, plus MMSegmentation's visualiser, so
# `tools/test.py --show-dir` (ours or MMSegmentation's) draws the masks.
#
# Scope rule (README "Config scopes"): a task config runs in its host
# library's scope, so dataloaders, samplers, transforms, evaluators, hooks
# and visualisers of MMSegmentation (and MMEngine) are written unprefixed;
# the only prefixed names are mmclipself's own modules (`mmclipself.X`).
_base_ = './default_runtime.py'

default_scope = 'mmseg'

# segmentation schedules count iterations (Cat-Seg: 80k, segmentation
# facts §2.3). A checkpoint with every validation of Cat-Seg's schedule
# (5000 iterations, _base_/schedules/catseg_80k.py); a leaf config with
# another schedule sets `default_hooks.checkpoint.interval` to match.
default_hooks = dict(
    logger=dict(type='LoggerHook', interval=50, log_metric_by_epoch=False),
    checkpoint=dict(
        type='CheckpointHook', by_epoch=False, interval=5000,
        max_keep_ckpts=3),
    visualization=dict(type='SegVisualizationHook'))
visualizer = dict(
    type='SegLocalVisualizer',
    vis_backends=[dict(type='LocalVisBackend')],
    name='visualizer')
log_processor = dict(window_size=50, by_epoch=False)
