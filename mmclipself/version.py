# Copyright (c) mmclipself contributors. All rights reserved.
"""Version of mmclipself."""
from typing import Tuple

__version__ = '0.1.0'


def parse_version_info(version_str: str) -> Tuple[int, ...]:
    """Parse a ``major.minor.patch`` string into a tuple of ints.

    Args:
        version_str: The version string, e.g. ``'0.1.0'``.

    Returns:
        The numeric parts, e.g. ``(0, 1, 0)``.
    """
    return tuple(int(x) for x in version_str.split('.') if x.isdigit())


version_info = parse_version_info(__version__)
