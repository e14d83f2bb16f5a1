# Copyright (c) mmclipself contributors. All rights reserved.
from .catseg_head import CATSegHead

__all__ = ['CATSegHead']
