# Copyright (c) mmclipself contributors. All rights reserved.
from .student_teacher_blend_hook import StudentTeacherBlendHook

__all__ = ['StudentTeacherBlendHook']
