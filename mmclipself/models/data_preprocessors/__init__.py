# Copyright (c) mmclipself contributors. All rights reserved.
from .clipself_data_preprocessor import (CLIP_MEAN, CLIP_STD,
                                         CLIPSelfDataPreprocessor)

__all__ = ['CLIPSelfDataPreprocessor', 'CLIP_MEAN', 'CLIP_STD']
