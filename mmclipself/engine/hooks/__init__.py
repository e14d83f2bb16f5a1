# Copyright (c) mmclipself contributors. All rights reserved.
__all__: list = []
