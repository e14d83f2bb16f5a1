# Copyright (c) mmclipself contributors. All rights reserved.
from .fvit import FViT

__all__ = ['FViT']
