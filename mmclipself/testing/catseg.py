# Copyright (c) mmclipself contributors. All rights reserved.
"""Tiny Cat-Seg configs for CPU tests: the shipped configs, shrunk.

The model keeps every component of the shipped config (CLIP image and text
towers, CVPR'24 tap guidance or the 2023 guidance backbone, the Cat-Seg
head, the release's 5-view inference) but runs on the 3-block, 32-wide
OpenAI-shaped tower of :data:`~mmclipself.testing.towers.TINY_OPENAI` at a
32x32 CLIP input (a 4x4 grid), a 1-layer text tower
(:func:`~mmclipself.testing.text.tiny_clip_cfg`), random weights (nothing
is downloaded), 48x48 training crops and 80x80 test images cut into 48x48
views at stride 32.
"""
import os.path as osp
from typing import Optional, Sequence, Union

from mmengine.config import Config

from mmclipself.testing.text import tiny_clip_cfg
from mmclipself.testing.towers import TINY_OPENAI

#: The repository root (tests run from an editable install).
REPO = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))
#: Open_clip name of the tiny text tower (its config is inline).
TINY_TEXT_MODEL = 'TinyCLIP-catseg'
#: Sizes of the tiny model: CLIP input, training crop, test image.
CLIP_SIZE = 32
CROP_SIZE = 48
TEST_SIZE = 80


def catseg_base_config(model: str = 'catseg_openai-vitb16_cvpr',
                       dataset: str = 'catseg_ade20k_150',
                       runtime: str = 'seg_runtime',
                       schedule: Optional[str] = None) -> Config:
    """A Cat-Seg config composed of the shipped ``_base_`` files.

    Args:
        model: Stem of a file in ``configs/_base_/models``.
        dataset: Stem of a file in ``configs/_base_/datasets``.
        runtime: Stem of a runtime file in ``configs/_base_``.
        schedule: Stem of a file in ``configs/_base_/schedules``, if any.
    """
    base = osp.join(REPO, 'configs', '_base_')
    files = [
        osp.join(base, 'models', f'{model}.py'),
        osp.join(base, 'datasets', f'{dataset}.py'),
        osp.join(base, f'{runtime}.py')
    ]
    if schedule:
        files.append(osp.join(base, 'schedules', f'{schedule}.py'))
    for f in files:
        if not osp.isfile(f):
            raise FileNotFoundError(f'config not found: {f}')
    return Config.fromstring(f'_base_ = {files!r}\n', '.py')


def _shrink_pipeline(pipeline: list, training: bool) -> None:
    for t in pipeline:
        name = str(t['type']).split('.')[-1]
        if name == 'ResizeShortestEdge':
            t['scale'] = CROP_SIZE if training else TEST_SIZE
            t['max_size'] = 4 * t['scale']
        elif name == 'Resize' and 'scale' in t:
            t['scale'] = (TEST_SIZE, TEST_SIZE)
        elif name in ('RandomCrop', 'Pad') and training:
            t['crop_size' if name == 'RandomCrop' else 'size'] = (CROP_SIZE,
                                                                  CROP_SIZE)


def tiny_catseg_config(
        config: Union[str, Config, None] = None,
        test_vocabulary: Union[str, Sequence[str], None] = None) -> Config:
    """Load a Cat-Seg config and shrink its model and input sizes.

    Args:
        config: A config file (relative to the repository or absolute), a
            :class:`Config`, or ``None`` for :func:`catseg_base_config`
            (CVPR'24 B/16, ADE-150 test set, the segmentation runtime).
        test_vocabulary: Override of ``model.test_vocabulary``.

    Returns:
        The config, still in the shipped layout (dataloaders included, with
        ``num_workers=0``).
    """
    if config is None:
        cfg = catseg_base_config()
    elif isinstance(config, Config):
        cfg = config.copy()
    else:
        path = config if osp.isabs(config) else osp.join(REPO, config)
        cfg = Config.fromfile(path)
    m = cfg.model
    width, dim = TINY_OPENAI['width'], TINY_OPENAI['output_dim']
    m.data_preprocessor.size = (CROP_SIZE, CROP_SIZE)
    m.clip_tower.update(arch=dict(TINY_OPENAI), pretrained=None)
    m.text_encoder.update(
        model_name=TINY_TEXT_MODEL, model_cfg=tiny_clip_cfg(), pretrained=None)
    m.clip_resolution = (CLIP_SIZE, CLIP_SIZE)
    head = m.decode_head
    if m.get('tap_guidance') is not None:  # CVPR'24: taps of blocks 0, 1
        m.clip_tower.out_indices = (0, 1)
        m.tap_guidance.update(in_channels=width, out_channels=(8, 4))
        head.update(appearance_channels=dim, decoder_guidance_channels=(8, 4))
    else:  # 2023: a tiny mmseg ResNet, maps at 4h, 2h, h
        m.guidance_backbone = dict(
            type='ResNet',
            depth=18,
            stem_channels=8,
            base_channels=8,
            num_stages=3,
            strides=(1, 2, 2),
            dilations=(1, 1, 1),
            out_indices=(0, 1, 2),
            norm_cfg=dict(type='BN', requires_grad=False),
            norm_eval=True)
        m.guidance_resolution = (2 * CLIP_SIZE, 2 * CLIP_SIZE)
        head.update(appearance_channels=32, decoder_guidance_channels=(16, 8))
    head.update(
        text_channels=dim,
        hidden_channels=16,
        num_heads=2,
        window_size=4,
        appearance_proj=8,
        text_proj=8,
        decoder_channels=(8, 8),
        decoder_guidance_proj=(4, 4))
    if test_vocabulary is not None:
        m.test_vocabulary = test_vocabulary
    m.test_cfg.update(crop_size=CROP_SIZE, stride=32, out_size=TEST_SIZE)
    for split in ('train', 'val', 'test'):
        loader = cfg.get(f'{split}_dataloader')
        if loader is not None:
            dataset = loader.dataset
            while 'pipeline' not in dataset and 'dataset' in dataset:
                dataset = dataset.dataset
            _shrink_pipeline(dataset.pipeline, split == 'train')
            loader.num_workers = 0
            loader.persistent_workers = False
    return cfg
