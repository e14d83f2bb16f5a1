# Copyright (c) mmclipself contributors. All rights reserved.
from .clipself_distiller import CLIPSelfDistiller

__all__ = ['CLIPSelfDistiller']
