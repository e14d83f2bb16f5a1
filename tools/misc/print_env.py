# Copyright (c) mmclipself contributors. All rights reserved.
"""Print the versions and build facts to paste into a bug report."""
from mmclipself.utils import collect_env

if __name__ == '__main__':
    for name, value in collect_env().items():
        print(f'{name}: {value}')
