# Copyright (c) mmclipself contributors. All rights reserved.
"""Cat-Seg (Cho et al., CVPR 2024) as an MMSegmentation segmentor."""
import os.path as osp
from typing import Dict, List, Optional, Sequence, Tuple, Union

import torch
import torch.nn as nn
import torch.nn.functional as F
from mmengine.config import ConfigDict
from mmseg.models.segmentors import EncoderDecoder
from mmseg.utils import ConfigType, OptConfigType, OptMultiConfig, SampleList
from torch import Tensor

from mmclipself.registry import MODELS
from mmclipself.vocab import (build_prompts, check_class_names,
                              get_class_names, get_templates,
                              list_vocabularies, read_class_file,
                              split_synonyms)
from ..utils.frozen import FrozenPartsMixin, record_weights
from .view_inference import crop_views, fold_views, window_positions

VocabularySpec = Union[str, Sequence[str]]

#: ImageNet mean/std (0-255) of the 2023 guidance backbones (facts §1.2).
IMAGENET_MEAN = (123.675, 116.28, 103.53)
IMAGENET_STD = (58.395, 57.12, 57.375)


def resolve_class_names(spec: VocabularySpec, key: str) -> Tuple[str, ...]:
    """Class names from a benchmark name, a class file or a list.

    Args:
        spec: A name known to :func:`~mmclipself.vocab.get_class_names`
            (e.g. ``'ade20k'``), a text file with one class per line
            (:func:`~mmclipself.vocab.read_class_file`) or a list of names
            (comma-separated synonyms allowed).
        key: The config key, for error messages.

    Raises:
        ValueError: Unknown name, missing file, empty or repeated names,
            fewer than two classes.
    """
    if isinstance(spec, str):
        if spec in list_vocabularies():
            names = list(get_class_names(spec))
        elif osp.isfile(spec):
            names = read_class_file(spec)
        else:
            raise ValueError(
                f'{key}={spec!r} is neither a known vocabulary '
                f'{list_vocabularies()} nor an existing class file')
    else:
        names = [str(n) for n in spec]
        check_class_names(names, key)
        for n in names:
            try:
                split_synonyms(n)
            except ValueError as e:
                raise ValueError(f'{key}: {e}') from None
    if len(names) < 2:
        raise ValueError(f'{key}: Cat-Seg takes the argmax over the classes '
                         f'and needs at least 2, got {names}')
    return tuple(names)


def _clear_text_cache_hook(module: nn.Module, incompatible_keys) -> None:
    module.clear_text_cache()


@MODELS.register_module()
class CATSeg(FrozenPartsMixin, EncoderDecoder):
    """Cat-Seg: cost aggregation for open-vocabulary semantic segmentation.

    An MMSegmentation :class:`EncoderDecoder` whose encoder is a CLIP image
    tower (:class:`~mmclipself.models.OpenAICLIPViT` /
    :class:`~mmclipself.models.EVA02CLIPViT`) plus a CLIP text tower
    (:class:`~mmclipself.models.CLIPTextEncoder`) and a guidance module,
    and whose decode head (:class:`~mmclipself.models.CATSegHead`) turns the
    cost volume between the dense CLIP map and the class prompts into
    per-class logits. The head gets one dict (the head contract)::

        dict(dense=(B, C, h, w),           # dense CLIP map, unit per pixel
             text=(T, P, C),               # unit per-template embeddings
             appearance=(B, C_app, h, w),  # spatial-aggregation guidance
             decoder_guidance=[(B, g0, 2h, 2w), (B, g1, 4h, 4w)])

    Both released versions are configurations of this class (segmentation
    facts §2.1):

    - **CVPR'24**: ``tap_guidance`` (:class:`CLIPTapGuidance`) upsamples
      the CLIP tower's taps (``out_indices`` [3, 7] for B/16, [7, 15] for
      L/14) into the decoder guidance; the appearance guidance is the dense
      CLIP map itself; the image and text towers train their q/v weights
      (``train_patterns``); one template, first synonym only.
    - **2023**: ``guidance_backbone`` (an MMSegmentation backbone:
      ResNet-101 for B/16, Swin-B for L/14) runs on the input resized to
      ``guidance_resolution`` with ImageNet normalisation; its last output
      (``h``) is the appearance guidance, the previous ones (``2h``,
      ``4h``) the decoder guidance; the image tower trains its attention
      and position embedding; the text tower is frozen (a frozen part, left
      out of checkpoints); 80 ImageNet templates, synonyms averaged.

    The CLIP tower always sees the input resized (bilinear) to
    ``clip_resolution`` (384 for B/16, 336 for L/14-336: a 24x24 grid).
    Inputs arrive normalised by the data preprocessor with CLIP's mean/std
    (facts §1.2); the guidance backbone's input is re-normalised from them.

    **Vocabularies.** Training uses ``train_vocabulary``; prediction uses
    ``test_vocabulary`` (default: the training one), replaceable at any
    time with :meth:`set_vocabulary` (no parameter depends on the
    vocabulary, so a checkpoint tests on any class list). The text
    embeddings are recomputed every training iteration when the text tower
    trains (prompt tokens cached), and otherwise cached per vocabulary
    (cleared on ``train()`` for a trainable tower, on weight loading and
    on :meth:`init_weights`). :attr:`class_names` is the test vocabulary and
    :attr:`train_class_names` the training one (read by the
    ``VocabularyCheckHook``: training labels must follow the training
    vocabulary's order).

    **Inference** (``test_cfg.mode``):

    - ``'catseg'`` (the release, facts §2.4): the image (640x640 from the
      test pipeline) is cut into ``crop_size`` windows at ``stride`` (2x2
      windows of 384 at stride 256) plus one global view resized to
      ``crop_size``; all views of all images go through one batched
      forward; each view's logits are upsampled (bilinear) to
      ``crop_size`` and passed through the sigmoid; the windows are folded
      back, dividing by the overlap count, and averaged with the global view
      upsampled to the image size: ``(local + global) / 2``. An input of
      another size is first resized to ``out_size`` and the result resized
      back.
    - ``'whole'`` / ``'slide'``: MMSegmentation's own code paths (each
      window or image is resized to ``clip_resolution`` inside).

    In every mode the segmentor returns sigmoid probabilities (``slide``
    averages probabilities), then MMSegmentation's ``postprocess_result``
    resizes them to the original shape and takes the argmax.

    Args:
        clip_tower: Config of the CLIP image tower. For CVPR'24 its
            ``out_indices`` name the tapped blocks.
        text_encoder: Config of :class:`CLIPTextEncoder`; with
            ``train_patterns`` it trains, else it is a frozen part.
        decode_head: Config of the head (see the contract above).
        tap_guidance: Config of the CVPR'24 tap projector
            (:class:`CLIPTapGuidance`). Exactly one of ``tap_guidance`` and
            ``guidance_backbone`` is given.
        guidance_backbone: Config of the 2023 guidance backbone (an
            MMSegmentation backbone returning maps at ``4h, 2h, h``).
        freeze_guidance_backbone: Make the guidance backbone a frozen part
            (Swin-B in the 2023 L/14 recipe: backbone multiplier 0).
        store_frozen_weights: Keep the frozen parts' tensors in checkpoints
            (default: only a record of their source and fingerprint; the
            weights are read again from their ``pretrained`` /
            ``init_cfg`` source, see :mod:`mmclipself.models.utils.frozen`).
        guidance_resolution: Input size of the guidance backbone.
        guidance_mean: Pixel mean (0-255) the guidance backbone expects.
        guidance_std: Pixel std (0-255) the guidance backbone expects.
        clip_resolution: Input size of the CLIP tower.
        train_vocabulary: Training classes, in label order: a benchmark name
            (``mmclipself.vocab.list_vocabularies()``), a class file or a
            list.
        test_vocabulary: Prediction classes; default: ``train_vocabulary``.
        templates: Prompt templates: ``'catseg_cvpr'`` (1), ``'imagenet'``
            (80), ``'imagenet_select'`` (8), another named set or a list.
        synonyms: ``'first'`` (CVPR'24: the first comma-separated synonym)
            or ``'mean'`` (2023: normalised mean over synonyms per
            template).
        name_rule: Class-name clean-up rule of
            :func:`~mmclipself.vocab.clean_name`.
        text_batch_size: Prompts per text-tower forward.
        train_cfg: Passed to the head's ``loss``.
        test_cfg: Inference config: ``mode`` (``'catseg'``, ``'whole'``,
            ``'slide'``); for ``'catseg'``: ``crop_size`` (384),
            ``stride`` (256), ``out_size`` ((640, 640)); for ``'slide'``
            MMSegmentation's ``crop_size`` and ``stride``.
        data_preprocessor: Config of the data preprocessor (MMSegmentation's
            ``SegDataPreProcessor`` with CLIP's mean/std).
        init_cfg: MMEngine initialisation config.
    """

    def __init__(self,
                 clip_tower: ConfigType,
                 text_encoder: ConfigType,
                 decode_head: ConfigType,
                 tap_guidance: OptConfigType = None,
                 guidance_backbone: OptConfigType = None,
                 freeze_guidance_backbone: bool = False,
                 store_frozen_weights: bool = False,
                 guidance_resolution: Sequence[int] = (384, 384),
                 guidance_mean: Sequence[float] = IMAGENET_MEAN,
                 guidance_std: Sequence[float] = IMAGENET_STD,
                 clip_resolution: Sequence[int] = (384, 384),
                 train_vocabulary: VocabularySpec = 'coco_stuff',
                 test_vocabulary: Optional[VocabularySpec] = None,
                 templates: Union[str, Sequence[str]] = 'catseg_cvpr',
                 synonyms: str = 'first',
                 name_rule: str = 'release',
                 text_batch_size: int = 1024,
                 train_cfg: OptConfigType = None,
                 test_cfg: OptConfigType = None,
                 data_preprocessor: OptConfigType = None,
                 init_cfg: OptMultiConfig = None) -> None:
        # EncoderDecoder.__init__ builds a mandatory `backbone`; Cat-Seg has
        # none in that sense, so start from BaseSegmentor's constructor
        super(EncoderDecoder, self).__init__(
            data_preprocessor=data_preprocessor, init_cfg=init_cfg)
        if (tap_guidance is None) == (guidance_backbone is None):
            raise ValueError('give exactly one of tap_guidance (CVPR\'24) '
                             'and guidance_backbone (2023)')
        if synonyms not in ('first', 'mean'):
            raise ValueError("synonyms must be 'first' or 'mean', got "
                             f'{synonyms!r}')
        if text_batch_size < 1:
            raise ValueError(f'text_batch_size must be >= 1, got '
                             f'{text_batch_size}')
        self.clip_tower = MODELS.build(clip_tower)
        self.text_encoder = MODELS.build(text_encoder)
        self.tap_guidance = None
        self.guidance_backbone = None
        if tap_guidance is not None:
            if not self.clip_tower.out_indices:
                raise ValueError('tap_guidance needs the CLIP tower\'s '
                                 'out_indices (the tapped blocks)')
            self.tap_guidance = MODELS.build(tap_guidance)
        else:
            self.guidance_backbone = MODELS.build(guidance_backbone)
        self._init_decode_head(decode_head)
        self.train_cfg = train_cfg
        if test_cfg is None:
            test_cfg = dict(mode='catseg')
        self.test_cfg = ConfigDict(test_cfg)
        if self.test_cfg.get('mode',
                             'whole') not in ('catseg', 'whole', 'slide'):
            raise ValueError("test_cfg.mode must be 'catseg', 'whole' or "
                             f"'slide', got {self.test_cfg.mode!r}")
        for key in ('crop_size', 'stride'):  # mmseg's slide mode unpacks
            if key in self.test_cfg:
                self.test_cfg[key] = _pair(self.test_cfg[key])

        self.clip_resolution = tuple(clip_resolution)
        self.guidance_resolution = tuple(guidance_resolution)
        self.register_buffer(
            'guidance_mean',
            torch.tensor(guidance_mean, dtype=torch.float32).view(-1, 1, 1),
            persistent=False)
        self.register_buffer(
            'guidance_std',
            torch.tensor(guidance_std, dtype=torch.float32).view(-1, 1, 1),
            persistent=False)
        self.templates = get_templates(templates)[1]
        self.synonyms = synonyms
        self.name_rule = name_rule
        self.text_batch_size = text_batch_size
        self._check_widths()
        self._vocabularies = dict(
            train=resolve_class_names(train_vocabulary, 'train_vocabulary'))
        self._vocabularies['test'] = self._vocabularies['train'] if (
            test_vocabulary is None) else resolve_class_names(
                test_vocabulary, 'test_vocabulary')
        self._token_cache: Dict[Tuple[str, ...], Tuple[Tensor, Tensor]] = {}
        self._text_cache: Dict[Tuple[str, ...], Tensor] = {}

        if not self.text_encoder.trainable:  # 2023: a frozen text tower
            self.register_frozen_part(
                'text_encoder', store_weights=store_frozen_weights)
        if freeze_guidance_backbone:
            if self.guidance_backbone is None:
                raise ValueError('freeze_guidance_backbone without a '
                                 'guidance_backbone')
            self.register_frozen_part(
                'guidance_backbone',
                store_weights=store_frozen_weights,
                init_fn='_init_guidance_backbone')
        self.register_load_state_dict_post_hook(_clear_text_cache_hook)

    # ------------------------------------------------------------------
    # construction helpers
    # ------------------------------------------------------------------
    def _init_decode_head(self, decode_head: ConfigType) -> None:
        """Build the head; the class count follows the vocabulary instead."""
        self.decode_head = MODELS.build(decode_head)
        self.align_corners = self.decode_head.align_corners

    def _init_guidance_backbone(self) -> None:
        """Initialise the frozen guidance backbone and record its source."""
        part = self.guidance_backbone
        part.init_weights()
        init_cfg = part.init_cfg if isinstance(part.init_cfg, dict) else {}
        record_weights(part, init_cfg.get('checkpoint'))

    def init_weights(self) -> None:
        """Initialise every part, then drop cached text embeddings."""
        super().init_weights()
        self.clear_text_cache()

    def train(self, mode: bool = True) -> 'CATSeg':
        """Set the mode; a trainable text tower's cache is dropped."""
        super().train(mode)
        if mode and self.text_encoder.trainable:
            self.clear_text_cache()
        return self

    # ------------------------------------------------------------------
    # vocabulary
    # ------------------------------------------------------------------
    @property
    def class_names(self) -> Tuple[str, ...]:
        """The prediction (test) vocabulary."""
        return self._vocabularies['test']

    @property
    def train_class_names(self) -> Tuple[str, ...]:
        """The training vocabulary (the order of the training labels)."""
        return self._vocabularies['train']

    @property
    def num_classes(self) -> int:
        """Size of the test vocabulary (channels of the predictions)."""
        return len(self.class_names)

    @property
    def out_channels(self) -> int:
        """Size of the test vocabulary (MMSegmentation's slide mode)."""
        return len(self.class_names)

    def set_vocabulary(self, class_names: VocabularySpec) -> None:
        """Replace the prediction vocabulary.

        Args:
            class_names: A benchmark name, a class file or a list of names
                (see :func:`resolve_class_names`).
        """
        self._vocabularies['test'] = resolve_class_names(
            class_names, 'set_vocabulary')
        keep = set(self._vocabularies.values())
        for cache in (self._text_cache, self._token_cache):
            for key in [k for k in cache if k not in keep]:
                del cache[key]

    def clear_text_cache(self) -> None:
        """Forget the cached text embeddings (not the prompt tokens)."""
        self._text_cache.clear()

    def _prompt_tokens(self, names: Tuple[str, ...]) -> Tuple[Tensor, Tensor]:
        """Token ids of every prompt and the (class, template) row of each.

        Returns:
            ``(tokens (N, L), rows (N,))``, ``rows = class * P + template``
            (several synonyms of a class share its rows).
        """
        if names not in self._token_cache:
            prompts, rows = [], []
            num_t = len(self.templates)
            for c, name in enumerate(names):
                synonyms = split_synonyms(name)
                if self.synonyms == 'first':
                    synonyms = synonyms[:1]
                for s in synonyms:
                    prompts += build_prompts(
                        s, self.templates, this_is=False, rule=self.name_rule)
                    rows += range(c * num_t, (c + 1) * num_t)
            self._token_cache[names] = (self.text_encoder.tokenize(prompts),
                                        torch.tensor(rows))
        return self._token_cache[names]

    def _encode_names(self, names: Tuple[str, ...]) -> Tensor:
        """Unit per-template embeddings ``(T, P, C)`` of the class names.

        Each prompt embedding is L2-normalised; a class's synonyms are
        averaged per template and normalised again (the numbers of
        :func:`~mmclipself.vocab.embed_class_names`, with gradients when
        the text tower trains).
        """
        tokens, rows = self._prompt_tokens(names)
        device = self.text_encoder.text.positional_embedding.device
        tokens, rows = tokens.to(device), rows.to(device)
        step = self.text_batch_size
        feats = torch.cat([
            self.text_encoder(tokens[i:i + step])
            for i in range(0, len(tokens), step)
        ])
        num_t = len(self.templates)
        if len(rows) == len(names) * num_t:  # one synonym per class
            out = feats
        else:
            out = feats.new_zeros((len(names) * num_t, feats.shape[1]))
            out = F.normalize(out.index_add(0, rows, feats), dim=-1)
        return out.view(len(names), num_t, -1)

    def _check_widths(self) -> None:
        """Fail at build time when the parts do not fit together.

        Head widths are checked where the head declares them
        (``text_channels``, ``num_templates``, ``appearance_channels``, as
        :class:`~mmclipself.models.CATSegHead` does).
        """
        head = self.decode_head
        problems = []
        dims = {
            'clip_tower.output_dim': self.clip_tower.output_dim,
            'text_encoder.embed_dim': self.text_encoder.embed_dim,
            'decode_head.text_channels': getattr(head, 'text_channels', None)
        }
        if len(set(v for v in dims.values() if v is not None)) > 1:
            problems.append(f'embedding widths differ: {dims}')
        templates = getattr(head, 'num_templates', None)
        if templates is not None and templates != len(self.templates):
            problems.append(f'decode_head.num_templates={head.num_templates}'
                            f' but {len(self.templates)} templates')
        if self.tap_guidance is not None:
            if len(self.clip_tower.out_indices) != len(
                    self.tap_guidance.scales):
                problems.append(
                    f'{len(self.clip_tower.out_indices)} taps '
                    f'(clip_tower.out_indices) for '
                    f'{len(self.tap_guidance.scales)} tap_guidance scales')
            if self.tap_guidance.in_channels != self.clip_tower.embed_dim:
                problems.append(
                    f'tap_guidance.in_channels='
                    f'{self.tap_guidance.in_channels}, tower width '
                    f'{self.clip_tower.embed_dim}')
            app = getattr(head, 'appearance_channels', None)
            if app is not None and app != self.clip_tower.output_dim:
                problems.append(
                    'decode_head.appearance_channels='
                    f'{head.appearance_channels}, but the appearance '
                    f'guidance is the dense map ({self.clip_tower.output_dim})'
                )
        if problems:
            raise ValueError('CATSeg parts do not fit: ' + '; '.join(problems))

    def text_embeddings(self, split: str = 'test') -> Tensor:
        """Unit per-template text embeddings ``(T, P, C)`` of a vocabulary.

        Recomputed with gradients while training a trainable text tower
        (CVPR'24, facts §2.1); otherwise cached per vocabulary.

        Args:
            split: ``'train'`` or ``'test'``.
        """
        names = self._vocabularies[split]
        if self.training and self.text_encoder.trainable and \
                torch.is_grad_enabled():
            return self._encode_names(names)
        cached = self._text_cache.get(names)
        device = self.text_encoder.text.positional_embedding.device
        if cached is not None and cached.device != device:
            cached = None  # the model moved since: encode there again
        if cached is None:
            with torch.no_grad():
                cached = self._encode_names(names)
            self._text_cache[names] = cached
        return cached

    # ------------------------------------------------------------------
    # features
    # ------------------------------------------------------------------
    def _resize(self, x: Tensor, size: Sequence[int]) -> Tensor:
        if tuple(x.shape[-2:]) == tuple(size):
            return x
        return F.interpolate(
            x, size=tuple(size), mode='bilinear', align_corners=False)

    def _pixel_stats(self) -> Tuple[Tensor, Tensor]:
        """Mean/std the data preprocessor normalised the inputs with.

        Raw 0-255 pixels (mean 0, std 1) if it does not normalise.
        """
        dp = self.data_preprocessor
        if getattr(dp, '_enable_normalize', False):
            return dp.mean, dp.std
        zero = self.guidance_mean.new_zeros((3, 1, 1))
        return zero, zero + 1

    def guidance_input(self, inputs: Tensor) -> Tensor:
        """The guidance backbone's input: resized and re-normalised."""
        mean, std = self._pixel_stats()
        x = self._resize(inputs, self.guidance_resolution)
        raw = x * std.to(x) + mean.to(x)
        return (raw - self.guidance_mean.to(x)) / self.guidance_std.to(x)

    def extract_feat(self,
                     inputs: Tensor,
                     split: str = 'test') -> Dict[str, object]:
        """The head's input dict for a batch of (views of) images.

        Args:
            inputs: ``(B, 3, H, W)`` images normalised with CLIP's mean/std.
            split: Vocabulary of the text embeddings, ``'train'`` or
                ``'test'``.
        """
        clip_in = self._resize(inputs, self.clip_resolution)
        if self.tap_guidance is not None:
            taps, dense = self.clip_tower.forward_featmaps(
                clip_in, with_dense=True)
            appearance = dense
            decoder_guidance = list(self.tap_guidance(taps))
        else:
            dense = self.clip_tower.forward_dense(clip_in)
            outs = self.guidance_backbone(self.guidance_input(inputs))
            appearance = outs[-1]
            decoder_guidance = list(outs[:-1])[::-1]  # [2h, 4h]
        return dict(
            dense=dense,
            text=self.text_embeddings(split),
            appearance=appearance,
            decoder_guidance=decoder_guidance)

    # ------------------------------------------------------------------
    # training and inference
    # ------------------------------------------------------------------
    def loss(self, inputs: Tensor, data_samples: SampleList) -> dict:
        """The head's loss over the training vocabulary."""
        x = self.extract_feat(inputs, 'train')
        return self._decode_head_forward_train(x, data_samples)

    def encode_decode(self, inputs: Tensor,
                      batch_img_metas: List[dict]) -> Tensor:
        """Class probabilities (sigmoid) at the input size."""
        return super().encode_decode(inputs, batch_img_metas).sigmoid()

    def inference(self, inputs: Tensor, batch_img_metas: List[dict]) -> Tensor:
        """``'catseg'`` mode here, ``'whole'``/``'slide'`` in mmseg."""
        if self.test_cfg.get('mode', 'whole') == 'catseg':
            return self.catseg_inference(inputs)
        return super().inference(inputs, batch_img_metas)

    def catseg_inference(self, inputs: Tensor) -> Tensor:
        """The release's five-view inference (facts §2.4), batched.

        The windows are cut from the input resized to ``out_size`` (the
        release squashes its short-side-640 image to 640x640); the global
        view is the input itself resized to ``crop_size``.

        Args:
            inputs: ``(B, 3, H, W)`` normalised images (the test pipelines
                resize the short side to 640).

        Returns:
            ``(B, T, H, W)`` class probabilities.
        """
        cfg = self.test_cfg
        crop = _pair(cfg.get('crop_size', 384))
        stride = _pair(cfg.get('stride', 256))
        out_size = _pair(cfg.get('out_size', 640))
        size = tuple(inputs.shape[-2:])
        x = self._resize(inputs, out_size)
        positions = window_positions(out_size, crop, stride)
        n = len(positions)
        # the global view comes from the input (short side 640), not from
        # the 640x640 squash, as in the release's inference_sliding_window
        views = torch.cat([
            crop_views(x, positions, crop),
            self._resize(inputs, crop)[:, None]
        ],
                          dim=1).flatten(0, 1)
        logits = self.decode_head(self.extract_feat(views, 'test'))
        probs = self._resize(logits, crop).sigmoid()
        probs = probs.unflatten(0, (inputs.shape[0], n + 1))
        local = fold_views(probs[:, :n], positions, out_size)
        seg = (local + self._resize(probs[:, n], out_size)) / 2
        return self._resize(seg, size)


def _pair(value: Union[int, Sequence[int]]) -> Tuple[int, int]:
    if isinstance(value, int):
        return (value, value)
    return tuple(int(v) for v in value)
