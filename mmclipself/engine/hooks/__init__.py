# Copyright (c) mmclipself contributors. All rights reserved.
from .init_frozen_parts_hook import InitFrozenPartsHook
from .non_finite_loss_hook import NonFiniteLossHook
from .strict_loading_hook import StrictLoadingHook
from .student_teacher_blend_hook import StudentTeacherBlendHook
from .vocabulary_check_hook import VocabularyCheckHook

__all__ = [
    'InitFrozenPartsHook', 'NonFiniteLossHook', 'StrictLoadingHook',
    'StudentTeacherBlendHook', 'VocabularyCheckHook'
]
