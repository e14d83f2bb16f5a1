# Copyright (c) mmclipself contributors. All rights reserved.
"""Tiny open_clip CLIP models for text-tower tests (random weights)."""
import copy

#: A 1-layer, 32-wide text tower embedding to 16-d (and a tiny image tower,
#: only so that open_clip can build the full CLIP as a reference).
TINY_CLIP_CFG = dict(
    embed_dim=16,
    vision_cfg=dict(
        image_size=32, layers=1, width=32, patch_size=16, head_width=16),
    text_cfg=dict(
        context_length=77, vocab_size=49408, width=32, heads=2, layers=1))


def tiny_clip_cfg(custom_text: bool = False, **text_cfg) -> dict:
    """A copy of :data:`TINY_CLIP_CFG`, optionally EVA-style (``text.*``).

    Args:
        custom_text: open_clip's ``CustomTextCLIP`` layout (the text tower
            under ``text.``, as EVA02-CLIP) instead of ``CLIP``'s top-level
            text keys (as OpenAI).
        **text_cfg: Overrides of ``text_cfg`` (e.g. ``width=64``).
    """
    cfg = copy.deepcopy(TINY_CLIP_CFG)
    cfg['text_cfg'].update(text_cfg)
    if custom_text:
        cfg['custom_text'] = True
    return cfg


def tiny_open_clip(cfg: dict, seed: int = 0):
    """A random open_clip CLIP (or ``CustomTextCLIP``) built from ``cfg``."""
    import torch
    from open_clip.model import CLIP, CustomTextCLIP
    cfg = copy.deepcopy(cfg)
    cls = CustomTextCLIP if cfg.pop('custom_text', False) else CLIP
    torch.manual_seed(seed)
    return cls(**cfg).eval()
