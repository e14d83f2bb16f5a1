# Copyright (c) mmclipself contributors. All rights reserved.
import torch.nn as nn
from mmcv.cnn import ConvModule
from mmdet.models.dense_heads import RPNHead

from mmclipself.registry import MODELS
from mmclipself.utils.typing_utils import OptConfigType


@MODELS.register_module()
class NormedRPNHead(RPNHead):
    """MMDetection's :class:`RPNHead` with normalised shared convs.

    Follows the CLIPSelf release's OV-LVIS F-ViT, whose RPN convs carry
    SyncBN (reference facts §1). Only the shared ``rpn_conv`` stack changes:
    ``num_convs`` conv-norm-ReLU blocks instead of bare convs; the
    objectness and box branches are MMDetection's. Build it in
    MMDetection's scope, as the F-ViT configs do.

    Args:
        norm_cfg: Norm of the shared convs (``None``: :class:`RPNHead`).
        **kwargs: Everything :class:`RPNHead` takes.
    """

    def __init__(self, *args, norm_cfg: OptConfigType = None, **kwargs):
        # read by _init_layers, which RPNHead's constructor calls
        self.norm_cfg = norm_cfg
        super().__init__(*args, **kwargs)

    def _init_layers(self) -> None:
        super()._init_layers()
        if self.norm_cfg is None:
            return
        self.rpn_conv = nn.Sequential(*[
            ConvModule(
                self.in_channels if i == 0 else self.feat_channels,
                self.feat_channels,
                3,
                padding=1,
                norm_cfg=self.norm_cfg,
                inplace=False) for i in range(self.num_convs)
        ])
