# Copyright (c) mmclipself contributors. All rights reserved.
"""Flags for optional dependencies."""
from importlib.util import find_spec

#: MMSegmentation is needed only by the segmentation models.
WITH_MMSEG: bool = find_spec('mmseg') is not None
