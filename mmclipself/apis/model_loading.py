# Copyright (c) mmclipself contributors. All rights reserved.
"""Build a model for inference and load its checkpoint: one way for all.

The detection, segmentation and panoptic entry points (``init_ov_detector``
and the three inferencers) build their models the same way: MMEngine's
registry, SyncBN reverted for a single process, then either the training
initialisation (no checkpoint: frozen towers from their ``pretrained``) or
the frozen parts first (they are not in checkpoints) and a strict load.
"""
import logging
from typing import Callable, Optional

import torch.nn as nn
from mmengine.config import Config
from mmengine.logging import MMLogger
from mmengine.model.utils import revert_sync_batchnorm

from mmclipself.engine.strict_loading import load_checkpoint_strictly
from mmclipself.models.utils.frozen import init_frozen_parts
from mmclipself.registry import MODELS


def quiet_init_weights(model: nn.Module) -> None:
    """``init_weights`` without MMEngine's per-parameter INFO lines."""
    logger = MMLogger.get_current_instance()
    level = logger.level
    logger.setLevel(logging.WARNING)
    try:
        model.init_weights()
    finally:
        logger.setLevel(level)


def build_and_load(
        cfg: Config,
        checkpoint: Optional[str],
        check: Optional[Callable[[nn.Module], None]] = None) -> nn.Module:
    """``cfg.model`` built, with ``checkpoint`` loaded strictly.

    Args:
        cfg: The whole config (``cfg.model`` is built in the current scope).
        checkpoint: A checkpoint file or URL; ``None`` initialises the model
            as for training (frozen towers read from their ``pretrained``).
        check: Called with the built model before anything is read, to
            refuse a config of the wrong kind of model.

    Returns:
        The model on the CPU (not yet in eval mode).

    Raises:
        CheckpointMismatchError: The checkpoint does not match the model,
            naming the file and the keys.
    """
    model = MODELS.build(cfg.model)
    if check is not None:
        check(model)
    model = revert_sync_batchnorm(model)
    if checkpoint is None:
        quiet_init_weights(model)
    else:
        # frozen parts are not in checkpoints: read them first
        init_frozen_parts(model)
        # every tensor, the right shapes, or an error naming the keys
        load_checkpoint_strictly(model, checkpoint, map_location='cpu')
    return model
