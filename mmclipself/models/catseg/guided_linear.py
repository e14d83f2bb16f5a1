# Copyright (c) mmclipself contributors. All rights reserved.
import torch.nn as nn
import torch.nn.functional as F
from torch import Tensor


def guided_linear(x: Tensor, guidance: Tensor, layer: nn.Linear) -> Tensor:
    """``layer(cat([x, guidance], -1))`` without building the concatenation.

    ``layer`` maps ``C + G`` channels: its first ``C`` input columns act on
    ``x``, the rest on ``guidance``. The two products are added with
    broadcasting, so a guidance shared by all classes (a size-1 class
    dimension) is projected once instead of once per class. Equal to the
    release's concatenation up to float rounding.

    Args:
        x: Tokens ``(..., C)``.
        guidance: Guidance ``(..., G)``, broadcastable against ``x``.
        layer: ``nn.Linear(C + G, out)``.

    Returns:
        Tensor: ``(..., out)``, the broadcast shape.
    """
    c = x.size(-1)
    if c + guidance.size(-1) != layer.in_features:
        raise ValueError(
            f'guided_linear: tokens ({c}) + guidance ({guidance.size(-1)}) '
            f'channels != in_features {layer.in_features}')
    return (F.linear(x, layer.weight[:, :c]) +
            F.linear(guidance, layer.weight[:, c:], layer.bias))
