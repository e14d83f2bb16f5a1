# Runtime of the detection configs: mmclipself's defaults plus MMDetection's
# visualiser, so `tools/test.py --show-dir` (ours or MMDetection's) draws
# boxes and masks.
_base_ = './default_runtime.py'

default_hooks = dict(
    visualization=dict(_scope_='mmdet', type='DetVisualizationHook'))
visualizer = dict(
    _scope_='mmdet',
    type='DetLocalVisualizer',
    vis_backends=[dict(type='LocalVisBackend')],
    name='visualizer')
log_processor = dict(window_size=50, by_epoch=True)
