# Copyright (c) mmclipself contributors. All rights reserved.
"""Files written whole or not at all."""
import os
import os.path as osp
import tempfile
from typing import Any

import torch


def atomic_torch_save(obj: Any, path: str) -> None:
    """``torch.save(obj, path)`` that never leaves a truncated ``path``.

    The object is written to a temporary file in the same directory (so the
    rename stays on one file system) and renamed over ``path``; on any
    error the temporary file is removed and ``path`` is left as it was.
    Missing parent directories are created.
    """
    folder = osp.dirname(osp.abspath(path))
    os.makedirs(folder, exist_ok=True)
    fd, tmp = tempfile.mkstemp(
        prefix=f'.{osp.basename(path)}.', suffix='.tmp', dir=folder)
    os.close(fd)
    try:
        torch.save(obj, tmp)
        os.replace(tmp, path)
    except BaseException:
        if osp.exists(tmp):
            os.remove(tmp)
        raise
