# Copyright (c) mmclipself contributors. All rights reserved.
import torch.nn as nn
import torch.nn.functional as F
from torch import Tensor


class GuidedUpsample(nn.Module):
    """One stage of Cat-Seg's upsampling decoder.

    Follows segmentation_facts.md §2.2 ("Decoder"):
    ``ConvTranspose2d(in, in - guidance, 2, stride 2)``, concatenation of
    the projected guidance of the class's image, then
    ``[Conv3x3 (no bias) -> GroupNorm(out // 16) -> ReLU] x 2`` to ``out``
    channels (GroupNorm groups at least 1 for tiny test widths).

    The first convolution of the concatenation is computed as the sum of
    its two input slices' convolutions (it has no bias), so the guidance
    of an image is convolved once and added to each of its ``T`` classes
    by broadcasting: the pairing of class maps and guidance is by
    construction image-wise (``(B, T)`` flattening, image-major).

    Args:
        in_channels: Input channels.
        out_channels: Output channels.
        guidance_channels: Projected guidance channels.
    """

    def __init__(self, in_channels: int, out_channels: int,
                 guidance_channels: int) -> None:
        super().__init__()
        if not 0 < guidance_channels < in_channels:
            raise ValueError(
                f'GuidedUpsample: guidance channels {guidance_channels} must '
                f'be in (0, in_channels={in_channels})')
        self.up_channels = in_channels - guidance_channels
        groups = max(1, out_channels // 16)
        self.up = nn.ConvTranspose2d(
            in_channels, self.up_channels, kernel_size=2, stride=2)
        self.conv1 = nn.Conv2d(
            in_channels, out_channels, 3, padding=1, bias=False)
        self.norm1 = nn.GroupNorm(groups, out_channels)
        self.conv2 = nn.Conv2d(
            out_channels, out_channels, 3, padding=1, bias=False)
        self.norm2 = nn.GroupNorm(groups, out_channels)

    def forward(self, x: Tensor, guidance: Tensor) -> Tensor:
        """Upsample class maps with their image's guidance.

        Args:
            x: Class maps ``(B * T, C_in, H, W)``, image-major.
            guidance: Projected guidance ``(B, G, 2H, 2W)``.

        Returns:
            Tensor: ``(B * T, C_out, 2H, 2W)``.
        """
        b = guidance.size(0)
        y = F.conv2d(
            self.up(x), self.conv1.weight[:, :self.up_channels], padding=1)
        g = F.conv2d(
            guidance, self.conv1.weight[:, self.up_channels:], padding=1)
        y = (y.unflatten(0, (b, -1)) + g.unsqueeze(1)).flatten(0, 1)
        y = F.relu(self.norm1(y))
        return F.relu(self.norm2(self.conv2(y)))
