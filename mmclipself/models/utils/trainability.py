# Copyright (c) mmclipself contributors. All rights reserved.
"""Choose the trainable parameters of a module by name pattern."""
from fnmatch import fnmatchcase
from typing import List, Sequence, Union

import torch.nn as nn


def set_trainable(module: nn.Module,
                  patterns: Union[str, Sequence[str]],
                  default: bool = False) -> List[str]:
    """Set ``requires_grad`` of ``module``'s parameters by name pattern.

    Every parameter whose name (as in ``module.named_parameters()``, e.g.
    ``visual.transformer.resblocks.3.attn.q_proj.weight``) matches one of
    ``patterns`` gets ``requires_grad = not default``; all others get
    ``default``. Patterns are :func:`fnmatch.fnmatchcase` globs matched
    against the whole name: ``*`` matches any run of characters *including*
    dots, ``?`` one character, ``[...]`` a set. Examples:

    - ``'*.attn.q_proj.*'`` and ``'*.attn.v_proj.*'``: q and v of every
      block, weights and biases (Cat-Seg, segmentation facts §2.1);
    - ``'*.attn.[qv]_proj.weight'``: their weights only;
    - ``'blocks.1[01].*'``: blocks 10 and 11 of a timm tower;
    - ``'*positional_embedding'``: an explicitly named non-block parameter.

    Args:
        module: The module whose parameters to set.
        patterns: One glob or a sequence of globs.
        default: ``requires_grad`` of the parameters that match no pattern.
            Defaults to False (the patterns name what trains). With True
            the patterns name what is frozen.

    Returns:
        The names of the parameters that end up trainable, in
        ``named_parameters()`` order.

    Raises:
        ValueError: A pattern matches no parameter (the error names every
            such pattern, so a typo never silently freezes everything).
    """
    if isinstance(patterns, str):
        patterns = [patterns]
    patterns = list(patterns)
    used = set()
    trainable = []
    for name, param in module.named_parameters():
        hits = [p for p in patterns if fnmatchcase(name, p)]
        used.update(hits)
        flag = (not default) if hits else default
        param.requires_grad_(flag)
        if flag:
            trainable.append(name)
    unused = [p for p in patterns if p not in used]
    if unused:
        raise ValueError(f'{type(module).__name__}: the patterns {unused} '
                         'match no parameter name (names look like '
                         f'{[n for n, _ in module.named_parameters()][:3]})')
    return trainable
