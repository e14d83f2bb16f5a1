# Copyright (c) mmclipself contributors. All rights reserved.
"""Tiny open-vocabulary Mask2Former models for CPU tests.

The shipped model bases (``configs/_base_/models/maskcls_*.py``), shrunk:
every component is kept (pixel decoder, masked-attention decoder, open-
vocabulary class head, fusion head, CLIP tower) at 32 channels, 6 queries,
3 decoder layers and 64 x 64 inputs; the CLIP towers are the tiny random
ones of :mod:`.towers` / :mod:`.fvit` (16-d embeddings).
"""
import os.path as osp

from mmengine.config import Config, ConfigDict

from mmclipself.testing.fvit import EMBED_DIM, REPO, TINY_FVIT_EVA
from mmclipself.testing.towers import TINY_OPENAI

__all__ = [
    'EMBED_DIM', 'IMAGE_SIZE', 'tiny_maskcls_model', 'shrink_maskcls_model',
    'tiny_maskcls_config', 'write_openai_tower', 'panoptic_batch'
]

IMAGE_SIZE = 64
BASES = dict(
    r50='configs/_base_/models/maskcls_r50.py',
    pyramid='configs/_base_/models/maskcls_clip-vit-pyramid_eva-vitb16.py')


def tiny_maskcls_model(backbone: str,
                       vocabulary: str,
                       num_things_classes: int,
                       test_vocabulary: str = None,
                       test_num_things_classes: int = None,
                       tower: str = None,
                       **model_kwargs) -> ConfigDict:
    """The model config of a shipped base, shrunk.

    Args:
        backbone: ``'r50'`` (a tiny ResNet-18 and a separate tiny OpenAI
            tower) or ``'pyramid'`` (a tiny EVA02 CLIP ViT pyramid).
        vocabulary: Training vocabulary file (16-d embeddings).
        num_things_classes: Its things (listed first).
        test_vocabulary: Optional test vocabulary file.
        test_num_things_classes: Its things.
        tower: Optional tower weights (``pretrained``).
        **model_kwargs: Overrides of top-level model keys (``clip_mode``,
            ``test_cfg``...).
    """
    cfg = Config.fromfile(osp.join(REPO, BASES[backbone]))
    m = cfg.model
    shrink_maskcls_model(m, tower)
    h = m.panoptic_head
    h.vocabulary = vocabulary
    h.test_vocabulary = test_vocabulary
    h.num_things_classes = num_things_classes
    h.num_stuff_classes = None
    h.test_num_things_classes = test_num_things_classes
    m.update(model_kwargs)
    return m


def shrink_maskcls_model(m: ConfigDict, tower: str = None) -> ConfigDict:
    """Shrink a full-size model config in place (vocabularies untouched).

    The backbone kind follows the config: a CLIP ViT pyramid gets the tiny
    EVA02 tower, anything else a tiny ResNet-18 and a separate tiny OpenAI
    tower (``clip_tower``).

    Args:
        m: An ``OVMask2Former`` model config (``cfg.model``).
        tower: Optional tower weights (``pretrained``).
    """
    pyramid = 'CLIPViTPyramid' in m.backbone.type
    m.data_preprocessor.pad_size_divisor = 16
    m.data_preprocessor.batch_augments = None
    if not pyramid:
        m.backbone = ConfigDict(
            type='ResNet',
            depth=18,
            base_channels=8,
            norm_cfg=dict(type='BN', requires_grad=False),
            norm_eval=True,
            init_cfg=None)
        m.panoptic_head.in_channels = [8, 16, 32, 64]
        m.clip_tower = ConfigDict(
            type='mmclipself.OpenAICLIPViT',
            arch=TINY_OPENAI,
            pretrained=tower)
    else:
        m.backbone.clip = ConfigDict(
            type='mmclipself.EVA02CLIPViT',
            arch=TINY_FVIT_EVA,
            pretrained=tower)
        m.backbone.out_indices = (0, 1, 2, 3)
        m.backbone.norm_cfg = dict(type='BN', requires_grad=True)
        m.panoptic_head.in_channels = [TINY_FVIT_EVA['embed_dim']] * 4
        # patch 8: levels at strides 2, 4, 8, 16
        m.panoptic_head.strides = [2, 4, 8, 16]
    h = m.panoptic_head
    h.feat_channels = h.out_channels = 32
    h.num_queries = 6
    pd = h.pixel_decoder
    pd.encoder.num_layers = 1
    pd.encoder.layer_cfg.self_attn_cfg.update(embed_dims=32, num_heads=4)
    pd.encoder.layer_cfg.ffn_cfg.update(embed_dims=32, feedforward_channels=64)
    pd.positional_encoding.num_feats = 16
    pd.norm_cfg = dict(type='GN', num_groups=4)
    h.positional_encoding.num_feats = 16
    td = h.transformer_decoder
    td.num_layers = 3
    td.layer_cfg.self_attn_cfg.update(embed_dims=32, num_heads=4)
    td.layer_cfg.cross_attn_cfg.update(embed_dims=32, num_heads=4)
    td.layer_cfg.ffn_cfg.update(embed_dims=32, feedforward_channels=64)
    m.train_cfg.num_points = 64
    return m


def write_openai_tower(path, seed: int = 0) -> str:
    """Random tiny OpenAI tower weights (``pretrained`` of ``TINY_OPENAI``).

    Returns:
        ``path`` as a string.
    """
    import torch

    from mmclipself.models import OpenAICLIPViT
    torch.manual_seed(seed)
    tower = OpenAICLIPViT(arch=TINY_OPENAI)
    torch.save(tower.tower().state_dict(), str(path))
    return str(path)


def _move_paths(cfg: Config, root: str) -> None:
    """Point every dataloader and evaluator path at ``root``.

    The data configs build their evaluators' paths from ``data_root``
    (changing ``data_root`` alone would not move them).
    """
    old = cfg.data_root
    for split in ('train', 'val', 'test'):
        loader = cfg.get(f'{split}_dataloader')
        if loader is not None:
            loader.dataset.data_root = str(root)
            loader.num_workers = 0
            loader.persistent_workers = False
        evaluators = cfg.get(f'{split}_evaluator')
        if evaluators is None or split == 'train':
            continue
        for e in evaluators if isinstance(evaluators, list) else [evaluators]:
            for key in ('ann_file', 'seg_prefix'):
                if isinstance(e.get(key), str) and e[key].startswith(old):
                    e[key] = osp.join(str(root), e[key][len(old):])


def tiny_maskcls_config(config: str,
                        vocabulary: str,
                        tower: str,
                        data_root: str,
                        test_vocabulary: str = None) -> Config:
    """A shipped leaf config of ``configs/maskcls``, shrunk, on a tiny set.

    The model is shrunk by :func:`shrink_maskcls_model` (the vocabulary
    files and thing counts stay the config's choice of classes: pass files
    with the same class lists); every resize targets a short side of
    ``IMAGE_SIZE`` (the LSJ crop is ``IMAGE_SIZE`` square); dataloaders run
    in the main process.

    Args:
        config: Path relative to the repo, e.g.
            ``'configs/maskcls/maskcls_r50-openai-vitl14-336_8xb2-lsj-368k_'
            'coco-panoptic.py'``.
        vocabulary: Training vocabulary file (16-d embeddings).
        tower: Tiny tower weights (:func:`write_openai_tower` for a ResNet
            config, :func:`mmclipself.testing.fvit.write_tower` for a
            pyramid).
        data_root: Root of the tiny set in the config's layout.
        test_vocabulary: Test vocabulary file, required if the config sets
            one.
    """
    cfg = Config.fromfile(osp.join(REPO, config))
    shrink_maskcls_model(cfg.model, tower)
    h = cfg.model.panoptic_head
    h.vocabulary = vocabulary
    if h.get('test_vocabulary') is not None:
        if test_vocabulary is None:
            raise ValueError(f'{config} sets a test vocabulary: pass '
                             'test_vocabulary')
        h.test_vocabulary = test_vocabulary
    for split in ('train', 'val', 'test'):
        loader = cfg.get(f'{split}_dataloader')
        if loader is None:
            continue
        for t in loader.dataset.pipeline:
            if t.type in ('Resize', 'RandomResize'):
                t.scale = (4 * IMAGE_SIZE, IMAGE_SIZE) \
                    if t.type == 'Resize' else (IMAGE_SIZE, IMAGE_SIZE)
            if t.type == 'RandomCrop':
                t.crop_size = (IMAGE_SIZE, IMAGE_SIZE)
    _move_paths(cfg, data_root)
    return cfg


def panoptic_batch(num_images: int = 2,
                   size: int = IMAGE_SIZE,
                   things=(0, 1),
                   stuff=(2, 3)):
    """Raw images (real photos) and data samples with panoptic targets.

    Each image holds two thing instances (top-left and bottom-right
    quarters, labels ``things``) and two stuff regions (the other quarters,
    labels ``stuff``) in ``gt_sem_seg`` as MMDetection's panoptic loader
    writes it (things' pixels carry their class too).

    Returns:
        ``(inputs (B, 3, size, size) float in [0, 255], BGR as
        MMDetection's image loader gives them, samples)``.
    """
    import numpy as np
    import torch
    import torch.nn.functional as F
    from mmdet.structures import DetDataSample
    from mmdet.structures.mask import BitmapMasks
    from mmengine.structures import InstanceData, PixelData
    from skimage import data

    photos = [data.astronaut(), data.coffee(), data.chelsea()]
    h = size // 2
    inputs, samples = [], []
    for i in range(num_images):
        img = torch.from_numpy(
            np.ascontiguousarray(photos[i % len(photos)][..., ::-1])).permute(
                2, 0, 1)[None].float()
        inputs.append(F.interpolate(img, (size, size), mode='area')[0])
        masks = np.zeros((2, size, size), np.uint8)
        masks[0, :h, :h] = 1
        masks[1, h:, h:] = 1
        sem = torch.full((1, size, size), 255, dtype=torch.long)
        sem[0, :h, :h], sem[0, h:, h:] = things[0], things[1]
        sem[0, :h, h:], sem[0, h:, :h] = stuff[0], stuff[1]
        s = DetDataSample(
            metainfo=dict(
                img_shape=(size, size),
                ori_shape=(size, size),
                pad_shape=(size, size),
                batch_input_shape=(size, size),
                scale_factor=(1., 1.)))
        s.gt_instances = InstanceData(
            labels=torch.tensor(things),
            masks=BitmapMasks(masks, size, size),
            bboxes=torch.tensor([[0., 0., h, h], [h, h, size, size]]))
        s.gt_sem_seg = PixelData(sem_seg=sem)
        samples.append(s)
    return torch.stack(inputs), samples
