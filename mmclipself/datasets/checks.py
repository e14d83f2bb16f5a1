# Copyright (c) mmclipself contributors. All rights reserved.
"""Checks of what a user passes to a dataset, run when it is built.

MMEngine's runner builds the datasets before the first iteration, so these
checks fail a run at its start, naming the file, key or class and saying
what to do, instead of deep inside a library or after hours of training.
"""
import os.path as osp
from typing import List, Optional, Sequence

import mmcv
from mmengine.fileio import exists, get


def require_file(path: str, what: str, hint: str = '') -> None:
    """Fail if ``path`` is not a file.

    Args:
        path: The file, as the dataset will open it.
        what: What it is, named in the message (``'ann_file'``).
        hint: What to do, appended to the message.

    Raises:
        FileNotFoundError: The file does not exist (named).
    """
    if not osp.isfile(path):
        raise FileNotFoundError(f'{what} not found: {path!r}' +
                                (f'; {hint}' if hint else ''))


def require_dir(path: str, what: str, hint: str = '') -> None:
    """Fail if ``path`` is given but is not a folder.

    Args:
        path: The folder ('' means the current one and passes).
        what: What it is, named in the message (``'data_prefix.img'``).
        hint: What to do, appended to the message.

    Raises:
        FileNotFoundError: The folder does not exist (named).
    """
    if path and not osp.isdir(path):
        raise FileNotFoundError(f'{what} folder not found: {path!r}' +
                                (f'; {hint}' if hint else ''))


def _readable(path: str) -> bool:
    try:
        img = mmcv.imfrombytes(get(path))
    except Exception:  # missing file, decoder errors of many types
        return False
    return img is not None and img.size > 0


def require_readable_image(paths: Sequence[str], source: str) -> None:
    """Fail if none of ``paths`` is a readable image.

    Images are read in order until the first readable one, so a good
    source costs one read. A source of only unreadable images would
    otherwise make the loader skip every image and MMEngine give up after
    many retries with a message naming nothing.

    Args:
        paths: Image paths of the dataset.
        source: Where they come from (folder or list file), for the message.

    Raises:
        ValueError: No image can be read (the count, the source and the
            first image are named).
    """
    if any(_readable(p) for p in paths):
        return
    raise ValueError(f'all {len(paths)} images in {source!r} are unreadable '
                     f'(first: {paths[0]!r}); check data_root and '
                     "data_prefix['img_path'] and that the files are images")


def require_all_exist(paths: Sequence[str], source: str) -> None:
    """Fail if any of ``paths`` does not exist (a cheap check per file).

    Used for validation and test sets, where every image is evaluated: a
    missing one fails the run at its start, not after training.

    Args:
        paths: Image paths of the dataset.
        source: Where they come from (folder or list file), for the message.

    Raises:
        FileNotFoundError: Some images are missing (count and first named).
    """
    missing = [p for p in paths if not exists(p)]
    if missing:
        raise FileNotFoundError(
            f'{len(missing)} of the {len(paths)} images of {source!r} do '
            f'not exist (first: {missing[0]!r}); every validation/test '
            "image is evaluated: check data_root and data_prefix['img_path']")


def require_test_sample(data: Optional[dict], info: dict, source: str) -> dict:
    """Return a test-time sample; fail naming the image if it is ``None``.

    A loader that skips unreadable images returns ``None``; at test time
    MMEngine cannot draw another sample and fails naming nothing.

    Args:
        data: What the pipeline returned.
        info: The sample's data info (``img_path``).
        source: The dataset's image source, for the message.

    Raises:
        ValueError: The pipeline dropped the sample (the image is named).
    """
    if data is None:
        raise ValueError(
            f'validation/test image {info.get("img_path")!r} of {source!r} '
            'could not be read (see the warning above); fix or remove it: '
            'every image is evaluated')
    return data


def missing_names(wanted: Sequence[str], present: Sequence[str]) -> List[str]:
    """Names of ``wanted`` that are not in ``present``, in order."""
    have = set(present)
    return [n for n in wanted if n not in have]
