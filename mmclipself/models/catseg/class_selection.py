# Copyright (c) mmclipself contributors. All rights reserved.
"""Top-k class selection of Cat-Seg CVPR'24 for large vocabularies.

Follows segmentation_facts.md §2.2 ("Class padding / top-k"): when the
vocabulary has more classes than ``pad_len``, each image keeps the
``pad_len`` classes whose initial cost is highest, the head runs on those
only, and the other classes get the constant ``dropped_logit`` (-100).
"""
import torch
from torch import Tensor


def select_top_classes(cost: Tensor, num_keep: int) -> Tensor:
    """Per image, the classes with the highest initial cost.

    The score of class ``t`` in image ``b`` is
    ``max(cost[b, :, t, :, :])``, the maximum over templates and
    locations. Ties are broken arbitrarily (``torch.topk``).

    Args:
        cost: Cost volume ``(B, P, T, h, w)``.
        num_keep: How many classes to keep, ``1 <= num_keep <= T``.

    Returns:
        Tensor: Class indices ``(B, num_keep)``, int64, ascending in each
        row (the vocabulary order; the order does not change the result,
        the head treats classes as a set).
    """
    num_classes = cost.size(2)
    if not 1 <= num_keep <= num_classes:
        raise ValueError(f'select_top_classes: num_keep must be in [1, '
                         f'{num_classes}], got {num_keep}')
    score = cost.transpose(1, 2).flatten(2).amax(dim=2)
    index = score.topk(num_keep, dim=1, sorted=False).indices
    return index.sort(dim=1).values


def gather_classes(x: Tensor, index: Tensor, dim: int) -> Tensor:
    """Take the selected classes of each image along ``dim``.

    Args:
        x: A tensor with batch dimension 0 (``B``, or 1 for one shared by
            the batch) and the classes along ``dim``.
        index: Class indices ``(B, k)`` from :func:`select_top_classes`.
        dim: The class dimension of ``x`` (``dim >= 1``).

    Returns:
        Tensor: ``x`` with ``k`` classes along ``dim`` and batch ``B``.
    """
    shape = [1] * x.dim()
    shape[0], shape[dim] = index.shape
    return torch.take_along_dim(x, index.view(shape), dim=dim)


def scatter_classes(logits: Tensor, index: Tensor, num_classes: int,
                    fill_value: float) -> Tensor:
    """Put the logits of the selected classes back into the vocabulary.

    Args:
        logits: ``(B, k, H, W)`` for the classes in ``index``.
        index: Class indices ``(B, k)``.
        num_classes: Vocabulary size ``T``.
        fill_value: Logit of the classes that were not selected
            (``dropped_logit``, -100 in the release).

    Returns:
        Tensor: ``(B, T, H, W)``.
    """
    b, k, h, w = logits.shape
    out = logits.new_full((b, num_classes, h, w), fill_value)
    return out.scatter(1, index.view(b, k, 1, 1).expand(-1, -1, h, w), logits)
