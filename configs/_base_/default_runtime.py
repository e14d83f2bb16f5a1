# Runtime defaults shared by every mmclipself config.
#
# Scope rule (README "Config scopes", enforced by
# tests/test_configs/test_scope_rule.py):
# - mmclipself's own types are always written `mmclipself.X`, whatever the
#   scope; they are the only prefixed names in our configs.
# - MMEngine's, MMDetection's and MMSegmentation's types are never
#   prefixed: they resolve in the current scope.
# - Task models are built in their host library's scope: one file per model
#   family in configs/_base_/models sets `_scope_` (e.g. 'mmdet') on the
#   model dict, and the task's runtime (det_runtime.py) makes that library
#   the default scope for the rest of the config.
# - The CLIPSelf distillation configs run in the 'mmclipself' scope set
#   here; MMEngine's types resolve there through the parent registries.
default_scope = 'mmclipself'

# loads load_from / --resume checkpoints strictly: a missing, unexpected or
# wrong-shaped tensor fails naming the file and the keys (MMEngine's Runner
# only warns and runs a random layer)
runner_type = 'mmclipself.StrictRunner'

default_hooks = dict(
    timer=dict(type='IterTimerHook'),
    logger=dict(type='LoggerHook', interval=50),
    param_scheduler=dict(type='ParamSchedulerHook'),
    checkpoint=dict(type='CheckpointHook', interval=1, max_keep_ckpts=3),
    sampler_seed=dict(type='DistSamplerSeedHook'),
    # frozen towers are left out of checkpoints: read them before loading
    init_frozen_parts=dict(type='mmclipself.InitFrozenPartsHook'),
    # fails at the start of train/val/test if a dataloader's classes are
    # not the vocabulary file's, in order, if a training annotation has a
    # class of loss weight 0 (a novel class: the loss would be NaN), or if a
    # metric's text embeddings come from another CLIP than the model's
    vocabulary_check=dict(type='mmclipself.VocabularyCheckHook'),
    # stops at the first NaN/inf loss (or non-finite weights before a
    # checkpoint) so no non-finite checkpoint is saved or rotated in;
    # `default_hooks = dict(non_finite_loss=None)` turns it off
    non_finite_loss=dict(type='mmclipself.NonFiniteLossHook'),
    # strict loading also where a host script ignores `runner_type`
    # (MMSegmentation's tools/test.py builds MMEngine's Runner)
    strict_loading=dict(type='mmclipself.StrictLoadingHook'),
)

env_cfg = dict(
    cudnn_benchmark=False,
    mp_cfg=dict(mp_start_method='fork', opencv_num_threads=0),
    dist_cfg=dict(backend='nccl'),
)

vis_backends = [dict(type='LocalVisBackend')]
visualizer = dict(
    type='Visualizer', vis_backends=vis_backends, name='visualizer')
log_processor = dict(type='LogProcessor', window_size=50, by_epoch=True)

log_level = 'INFO'
load_from = None
resume = False
