# Copyright (c) mmclipself contributors. All rights reserved.
"""Where encoded free-text vocabularies are cached on disk.

Reads of vocabulary files are cached in-process by
:func:`~mmclipself.vocab.load_vocabulary`; vocabularies encoded from free
text (:func:`mmclipself.apis.encode_vocabulary`, the inferencer) are written
once to ``$MMCLIPSELF_CACHE/vocabularies`` under a name derived from
everything that determines them.
"""
import hashlib
import json
import os
import os.path as osp
from typing import Any, Dict, Optional

#: Environment variable overriding the cache root.
CACHE_ENV = 'MMCLIPSELF_CACHE'


def default_cache_dir() -> str:
    """Where encoded vocabularies are cached.

    ``$MMCLIPSELF_CACHE/vocabularies`` if set, else
    ``~/.cache/mmclipself/vocabularies``.
    """
    root = os.environ.get(CACHE_ENV) or osp.join(
        osp.expanduser('~'), '.cache', 'mmclipself')
    return osp.join(root, 'vocabularies')


def cached_vocabulary_path(key: Dict[str, Any],
                           prefix: str,
                           num_classes: int,
                           cache_dir: Optional[str] = None) -> str:
    """The cache file of an encoded vocabulary.

    Args:
        key: Everything the embeddings depend on (names, text model and
            weights, templates, rule, ...); JSON-serialisable.
        prefix: Readable file-name prefix, e.g. the model name.
        num_classes: Shown in the file name.
        cache_dir: Defaults to :func:`default_cache_dir`.

    Returns:
        ``<cache_dir>/<prefix>_<C>cls_<hash>.pt`` (may not exist yet).
    """
    digest = hashlib.sha1(json.dumps(key,
                                     sort_keys=True).encode()).hexdigest()[:16]
    safe = ''.join(c if c.isalnum() or c in '-_.' else '_' for c in prefix)
    return osp.join(cache_dir or default_cache_dir(),
                    f'{safe}_{num_classes}cls_{digest}.pt')
