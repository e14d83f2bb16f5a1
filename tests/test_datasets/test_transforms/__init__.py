# Copyright (c) mmclipself contributors. All rights reserved.
