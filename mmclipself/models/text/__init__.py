# Copyright (c) mmclipself contributors. All rights reserved.
from .clip_text_encoder import (CLIPTextEncoder, build_text_model,
                                text_tower_state)

__all__ = ['CLIPTextEncoder', 'build_text_model', 'text_tower_state']
