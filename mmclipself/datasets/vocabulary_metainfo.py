# Copyright (c) mmclipself contributors. All rights reserved.
"""A dataset ``METAINFO`` whose classes come from the vocabulary package."""
import copy
from typing import Any, Optional, Tuple

from mmclipself.vocab import get_class_names


class VocabularyMetainfo:
    """Class attribute ``METAINFO`` read from :func:`get_class_names`.

    The class list lives in one place, :mod:`mmclipself.vocab` (for ADE-847
    and PC-459 a text file shipped with the package); the dataset reads it
    the first time ``METAINFO`` is accessed (when a dataset is built), not
    when the module is imported. Each access returns a new dict, as
    MMEngine copies and updates it.

    Example:
        >>> class ADE20K847Dataset(BaseSegDataset):
        ...     METAINFO = VocabularyMetainfo('ade847')

    Args:
        vocabulary: A key of :func:`~mmclipself.vocab.get_class_names`.
        **fields: Other metainfo fields (e.g. ``palette``).
    """

    def __init__(self, vocabulary: str, **fields: Any) -> None:
        self.vocabulary = vocabulary
        self.fields = fields
        self._classes: Optional[Tuple[str, ...]] = None

    def __get__(self, obj: Any, owner: Optional[type] = None) -> dict:
        if self._classes is None:
            self._classes = tuple(get_class_names(self.vocabulary))
        return dict(classes=self._classes, **copy.deepcopy(self.fields))
