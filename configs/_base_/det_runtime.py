# Runtime of the detection configs: mmclipself's defaults in MMDetection's
# scope, plus MMDetection's visualiser, so `tools/test.py --show-dir` (ours
# or MMDetection's) draws boxes and masks.
#
# Scope rule (README "Config scopes"): a task config runs in its host
# library's scope, so dataloaders, samplers, transforms, evaluators, hooks
# and visualisers of MMDetection (and MMEngine) are written unprefixed; the
# only prefixed names are mmclipself's own modules (`mmclipself.X`).
_base_ = './default_runtime.py'

default_scope = 'mmdet'

default_hooks = dict(
    visualization=dict(type='DetVisualizationHook'))
visualizer = dict(
    type='DetLocalVisualizer',
    vis_backends=[dict(type='LocalVisBackend')],
    name='visualizer')
log_processor = dict(window_size=50, by_epoch=True)
