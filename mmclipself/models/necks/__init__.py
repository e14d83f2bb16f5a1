# Copyright (c) mmclipself contributors. All rights reserved.
from .clip_tap_guidance import CLIPTapGuidance

__all__ = ['CLIPTapGuidance']
