# Copyright (c) mmclipself contributors. All rights reserved.
import logging
from typing import Optional

from mmcv.transforms import LoadImageFromFile
from mmengine.logging import print_log

from mmclipself.registry import TRANSFORMS


@TRANSFORMS.register_module()
class LoadImageOrSkip(LoadImageFromFile):
    """mmcv's ``LoadImageFromFile`` that skips unreadable or empty images.

    Web-scale image folders (CC3M) contain truncated or corrupt files. A
    file that cannot be read or decodes to an empty image is skipped: the
    transform returns ``None``, so MMEngine's dataset draws another sample,
    and a warning naming the file with the running count of skips is
    logged once per file (a file drawn again is skipped silently). A source
    with no readable image at all is refused when the dataset is built
    (:func:`mmclipself.datasets.checks.require_readable_image`).

    Args:
        min_size: Images whose shorter side is below this many pixels are
            skipped too. Defaults to 1.
        **kwargs: ``LoadImageFromFile`` arguments.
    """

    num_skipped = 0  # shared by all instances of a process
    _logged: set = set()  # files already named in a warning

    def __init__(self, min_size: int = 1, **kwargs) -> None:
        super().__init__(**kwargs)
        self.min_size = min_size

    def _skip(self, path: str, why: str) -> None:
        type(self).num_skipped += 1
        if path in LoadImageOrSkip._logged:
            return
        LoadImageOrSkip._logged.add(path)
        print_log(
            f'skipped unreadable image {path} ({why}); '
            f'{type(self).num_skipped} skipped so far in this process',
            logger='current',
            level=logging.WARNING)

    def transform(self, results: dict) -> Optional[dict]:
        path = results.get('img_path')
        try:
            out = super().transform(results)
        except Exception as e:  # decoder errors have many types
            self._skip(path, f'{type(e).__name__}: {e}')
            return None
        img = None if out is None else out.get('img')
        if img is None or img.size == 0 or min(img.shape[:2]) < self.min_size:
            self._skip(path, 'empty or too small')
            return None
        return out
