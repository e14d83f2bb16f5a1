# Copyright (c) mmclipself contributors. All rights reserved.
from typing import Dict, List, Optional, Sequence

import torch
import torch.nn.functional as F
from mmseg.models.decode_heads.decode_head import BaseDecodeHead
from mmseg.models.losses import accuracy
from mmseg.utils import SampleList
from torch import Tensor

from mmclipself.registry import MODELS
from ..catseg import (CostAggregator, CostEmbedding, UpsampleDecoder,
                      cost_volume, gather_classes, scatter_classes,
                      select_top_classes)

IGNORE_MODES = ('release', 'exclude')


@MODELS.register_module()
class CATSegHead(BaseDecodeHead):
    """Cat-Seg's head: everything after the CLIP features.

    Follows segmentation_facts.md §2.2 (both the 2023 and the CVPR'24
    releases): the cost volume between the dense CLIP map and the
    per-template text embeddings, its per-class ``7x7`` embedding, the
    aggregator (:class:`~mmclipself.models.catseg.CostAggregator`: spatial
    Swin blocks with appearance guidance, class aggregation with linear
    attention and text guidance), the upsampling decoder with guidance and
    the per-class head, giving logits ``(B, T, 4h, 4w)`` for the ``T``
    classes of the current vocabulary.

    With ``pad_len`` (CVPR'24: 256), a vocabulary smaller than ``pad_len``
    is padded inside the class aggregation; a larger one is reduced per
    image to the ``pad_len`` classes with the highest initial cost
    (:func:`~mmclipself.models.catseg.select_top_classes`), and the other
    classes get ``dropped_logit`` (-100).

    The loss is the release's: logits resized bilinearly
    (``align_corners=False``) to the label size, BCE-with-logits against
    the one-hot labels over the ``T`` classes, mean. With
    ``ignore_mode='release'`` (default) pixels labelled ``ignore_index``
    stay in the mean with an all-zero target, as in the release;
    ``'exclude'`` leaves them out (mean over valid pixels x classes).

    Unlike mmseg's heads, ``forward`` takes a dict (built by the
    segmentor)::

        dict(dense=(B, C, h, w),          # dense CLIP map (any norm)
             text=(T, P, C) or (B, T, P, C),  # per-template embeddings
             appearance=(B, C_app, h, w),
             decoder_guidance=[(B, g0, 2h, 2w), (B, g1, 4h, 4w)])

    ``h`` and ``w`` must be divisible by the window (or not larger than it)
    and by both pooling sizes. Both ``dense`` and ``text`` are
    L2-normalised for the cost volume; ``appearance`` is used as given (the
    release feeds the un-normalised CLIP map). ``conv_seg`` and
    ``loss_decode``, which :class:`BaseDecodeHead` builds, are deleted: the
    head classifies by the cost volume and computes its own BCE.

    Args:
        text_channels: Channels ``C`` of the text embeddings and the dense
            map (512 for B/16, 768 for L/14).
        appearance_channels: Channels of the appearance guidance (CVPR'24:
            the dense map, 512 / 768; 2023 B: ResNet-101 res4, 1024).
        decoder_guidance_channels: Channels ``(g0, g1)`` of the decoder
            guidance (CVPR'24: (256, 128); 2023 B: (512, 256)).
        num_classes: Size of the training vocabulary (informative; the
            head works with any ``T``).
        num_templates: Prompt templates ``P`` (CVPR'24: 1, 2023: 80).
        hidden_channels: Embedded cost channels (128).
        num_layers: Aggregation layers (2).
        num_heads: Heads of both attentions (4).
        window_size: Swin window side (12).
        pooling_size: Class-aggregation pooling in training ((2, 2)).
        test_pooling_size: Class-aggregation pooling at eval ((1, 1)).
        appearance_proj: Projected appearance guidance channels (128).
        text_proj: Projected text guidance channels (128).
        decoder_channels: Decoder stage channels ((64, 32)).
        decoder_guidance_proj: Projected decoder guidance ((32, 16)).
        pad_len: Class padding / selection length (CVPR'24: 256; 2023:
            ``None``).
        dropped_logit: Logit of classes left out by the selection (-100).
        ignore_mode: ``'release'`` or ``'exclude'`` (see above).
        loss_weight: Weight of the BCE loss.
        with_cp: Activation checkpointing of the aggregator layers and the
            decoder stages in training.
        in_channels: :class:`BaseDecodeHead`'s; defaults to
            ``text_channels`` and must equal it.
        channels: :class:`BaseDecodeHead`'s; defaults to
            ``hidden_channels`` and must equal it.
        ignore_index: Label of ignored pixels (255).
        align_corners: ``align_corners`` of the resizing in ``predict``
            (False, as the release).
        init_cfg: Initialisation config; ``None`` keeps PyTorch's default
            initialisation, as the release.
    """

    def __init__(self,
                 text_channels: int,
                 appearance_channels: int,
                 decoder_guidance_channels: Sequence[int],
                 *,
                 num_classes: int,
                 num_templates: int = 1,
                 hidden_channels: int = 128,
                 num_layers: int = 2,
                 num_heads: int = 4,
                 window_size: int = 12,
                 pooling_size: Sequence[int] = (2, 2),
                 test_pooling_size: Sequence[int] = (1, 1),
                 appearance_proj: int = 128,
                 text_proj: int = 128,
                 decoder_channels: Sequence[int] = (64, 32),
                 decoder_guidance_proj: Sequence[int] = (32, 16),
                 pad_len: Optional[int] = None,
                 dropped_logit: float = -100.0,
                 ignore_mode: str = 'release',
                 loss_weight: float = 1.0,
                 with_cp: bool = False,
                 in_channels: Optional[int] = None,
                 channels: Optional[int] = None,
                 ignore_index: int = 255,
                 align_corners: bool = False,
                 init_cfg: Optional[dict] = None) -> None:
        if in_channels not in (None, text_channels):
            raise ValueError(f'CATSegHead: in_channels ({in_channels}) must '
                             f'equal text_channels ({text_channels})')
        if channels not in (None, hidden_channels):
            raise ValueError(f'CATSegHead: channels ({channels}) must equal '
                             f'hidden_channels ({hidden_channels})')
        if ignore_mode not in IGNORE_MODES:
            raise ValueError(f'CATSegHead: ignore_mode must be one of '
                             f'{IGNORE_MODES}, got {ignore_mode!r}')
        if pad_len is not None and pad_len < 1:
            raise ValueError(f'CATSegHead: pad_len must be None or >= 1, '
                             f'got {pad_len}')
        super().__init__(
            text_channels,
            hidden_channels,
            num_classes=num_classes,
            dropout_ratio=0.0,
            loss_decode=[],
            ignore_index=ignore_index,
            align_corners=align_corners,
            init_cfg=init_cfg)
        del self.conv_seg, self.loss_decode
        self.text_channels = text_channels
        self.appearance_channels = appearance_channels
        self.num_templates = num_templates
        self.pad_len = pad_len
        self.dropped_logit = dropped_logit
        self.ignore_mode = ignore_mode
        self.loss_weight = loss_weight
        self.embed = CostEmbedding(num_templates, hidden_channels)
        self.aggregator = CostAggregator(
            hidden_channels,
            appearance_channels,
            text_channels,
            appearance_proj=appearance_proj,
            text_proj=text_proj,
            num_layers=num_layers,
            num_heads=num_heads,
            window_size=window_size,
            pooling_size=pooling_size,
            test_pooling_size=test_pooling_size,
            pad_len=pad_len,
            with_cp=with_cp)
        self.decoder = UpsampleDecoder(
            hidden_channels,
            decoder_channels,
            decoder_guidance_channels,
            decoder_guidance_proj,
            with_cp=with_cp)

    def _check_inputs(self, inputs: Dict) -> None:
        """Raise a clear error on a malformed input dict."""
        if not isinstance(inputs, dict):
            raise TypeError('CATSegHead.forward takes a dict with keys '
                            'dense, text, appearance, decoder_guidance; got '
                            f'{type(inputs).__name__}')
        missing = {'dense', 'text', 'appearance', 'decoder_guidance'
                   } - set(inputs)
        if missing:
            raise KeyError(f'CATSegHead inputs miss {sorted(missing)}')
        dense, text = inputs['dense'], inputs['text']
        if dense.dim() != 4 or dense.size(1) != self.text_channels:
            raise ValueError(
                f'CATSegHead inputs["dense"] must be (B, '
                f'{self.text_channels}, h, w), got {tuple(dense.shape)}')
        b, _, h, w = dense.shape
        if (text.dim() not in (3, 4)
                or text.shape[-2:] != (self.num_templates, self.text_channels)
                or (text.dim() == 4 and text.size(0) not in (1, b))):
            raise ValueError(
                'CATSegHead inputs["text"] must be (T, P, C) or (B, T, P, C) '
                f'with P={self.num_templates}, C={self.text_channels}, '
                f'B={b}; got {tuple(text.shape)}')
        app = inputs['appearance']
        if app.shape != (b, self.appearance_channels, h, w):
            raise ValueError(
                f'CATSegHead inputs["appearance"] must be '
                f'({b}, {self.appearance_channels}, {h}, {w}), got '
                f'{tuple(app.shape)}')
        guidance = inputs['decoder_guidance']
        expected = [(b, c, h * s, w * s)
                    for c, s in zip(self.decoder.guidance_channels, (2, 4))]
        got = [tuple(g.shape) for g in guidance]
        if got != expected:
            raise ValueError(f'CATSegHead inputs["decoder_guidance"] must '
                             f'have shapes {expected}, got {got}')

    def forward(self, inputs: Dict) -> Tensor:
        """Logits of every class of the vocabulary.

        Args:
            inputs: The dict described in the class docstring.

        Returns:
            Tensor: ``(B, T, 4h, 4w)``.
        """
        self._check_inputs(inputs)
        dense = inputs['dense']
        text = inputs['text']
        text = F.normalize(text if text.dim() == 4 else text[None], dim=-1)
        cost = cost_volume(dense, text)
        num_classes = text.size(1)
        index = None
        if self.pad_len is not None and num_classes > self.pad_len:
            index = select_top_classes(cost, self.pad_len)
            cost = gather_classes(cost, index, dim=2)
            text = gather_classes(text, index, dim=1)
        x = self.aggregator(self.embed(cost), inputs['appearance'], text)
        logits = self.decoder(x, list(inputs['decoder_guidance']))
        if index is not None:
            logits = scatter_classes(logits, index, num_classes,
                                     self.dropped_logit)
        return logits

    def loss_by_feat(self, seg_logits: Tensor,
                     batch_data_samples: SampleList) -> Dict[str, Tensor]:
        """BCE of the release over the classes of the vocabulary.

        Args:
            seg_logits: ``(B, T, h', w')`` from :meth:`forward`.
            batch_data_samples: Data samples with ``gt_sem_seg``.

        Returns:
            dict: ``loss_bce`` and ``acc_seg`` (logged only).
        """
        label = self._stack_batch_gt(batch_data_samples).squeeze(1)
        seg_logits = F.interpolate(
            seg_logits, label.shape[-2:], mode='bilinear', align_corners=False)
        return dict(
            loss_bce=self.bce_loss(seg_logits, label),
            acc_seg=accuracy(
                seg_logits, label, ignore_index=self.ignore_index))

    def bce_loss(self, logits: Tensor, label: Tensor) -> Tensor:
        """BCE-with-logits against one-hot labels (see the class doc).

        Args:
            logits: ``(B, T, H, W)``.
            label: ``(B, H, W)`` class indices in ``[0, T)`` or
                ``ignore_index``.

        Returns:
            Tensor: The weighted scalar loss.
        """
        num_classes = logits.size(1)
        valid = label != self.ignore_index
        outside = valid & ((label < 0) | (label >= num_classes))
        if bool(outside.any()):
            bad = label[outside]
            raise ValueError(
                f'CATSegHead: label value {int(bad[0])} is outside the '
                f'{num_classes} classes of the vocabulary and is not '
                f'ignore_index ({self.ignore_index})')
        classes = torch.arange(num_classes, device=label.device)
        target = ((label.unsqueeze(1) == classes.view(1, -1, 1, 1))
                  & valid.unsqueeze(1)).to(logits.dtype)
        if self.ignore_mode == 'release':
            loss = F.binary_cross_entropy_with_logits(logits, target)
        else:
            weight = valid.unsqueeze(1).to(logits.dtype)
            loss = F.binary_cross_entropy_with_logits(
                logits, target, weight=weight, reduction='sum')
            loss = loss / (weight.sum() * num_classes).clamp(min=1)
        return self.loss_weight * loss

    def predict(self, inputs: Dict, batch_img_metas: List[dict],
                test_cfg: Dict) -> Tensor:
        """Logits resized to the input size (mmseg's contract).

        Args:
            inputs: The dict described in the class docstring.
            batch_img_metas: Meta information of each image.
            test_cfg: The test config (unused).

        Returns:
            Tensor: ``(B, T, H, W)`` logits (the segmentor applies the
            sigmoid).
        """
        return self.predict_by_feat(self.forward(inputs), batch_img_metas)
