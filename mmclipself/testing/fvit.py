# Copyright (c) mmclipself contributors. All rights reserved.
"""Tiny F-ViT configs for CPU tests: the shipped configs, shrunk.

The model keeps every component of the shipped config (pyramid, FPN, RPN,
OV box head, fusion, mask head) but runs on a 4-block, 64-wide EVA02 tower
with 8x8 patches and 16-d CLIP embeddings, at 128 x 128 input.
"""
import json
import os.path as osp

import torch
import torch.nn.functional as F
from mmengine.config import Config

from mmclipself.testing.towers import TINY_EVA

#: The repository root (tests run from an editable install).
REPO = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))
TINY_FVIT_EVA = dict(TINY_EVA, depth=4)
EMBED_DIM = 16  # TINY_EVA's CLIP embedding width
IMAGE_SIZE = 128


def write_tower(path, seed=0):
    """Random tiny EVA02 tower weights in timm layout (the 'pretrained')."""
    from mmclipself.models import EVA02CLIPViT
    torch.manual_seed(seed)
    tower = EVA02CLIPViT(arch=TINY_FVIT_EVA)
    torch.save(tower.tower().state_dict(), str(path))
    return str(path)


def write_vocabulary(path, names, dim=EMBED_DIM, background=True, seed=0):
    """A vocabulary file in the layout of generate_text_embeddings.py."""
    names = list(names) + (['background'] if background else [])
    g = torch.Generator().manual_seed(seed)
    emb = F.normalize(torch.randn(len(names), dim, generator=g), dim=-1)
    torch.save(dict(class_names=names, embeddings=emb), str(path))
    return str(path)


def write_lvis_base_json(path, names, rare):
    """Categories with ``image_count`` (0 for ``rare``) like build_ov_lvis."""
    cats = [
        dict(id=i + 1, name=n, image_count=0 if n in rare else 1)
        for i, n in enumerate(names)
    ]
    with open(path, 'w') as f:
        json.dump(dict(categories=cats), f)
    return str(path)


def _resize_pipeline(pipeline, size):
    for t in pipeline:
        for key in ('scale', 'crop_size'):
            if key in t:
                t[key] = (size, size)


def tiny_fvit_config(config, tower, vocabulary, base_classes='keep'):
    """Load a shipped F-ViT config and shrink its model and input size.

    Args:
        config: Path relative to the repo, e.g.
            ``'configs/fvit/fvit_eva-vitb16_ov-coco.py'``.
        tower: Tiny tower weights (:func:`write_tower`).
        vocabulary: Vocabulary file (:func:`write_vocabulary`).
        base_classes: Override of the box head's ``base_classes``.
    """
    cfg = Config.fromfile(osp.join(REPO, config))
    m = cfg.model
    m.data_preprocessor.pad_size_divisor = IMAGE_SIZE
    m.backbone.clip = dict(
        type='mmclipself.EVA02CLIPViT', arch=TINY_FVIT_EVA, pretrained=tower)
    m.backbone.out_indices = (0, 1, 2, 3)
    m.neck.in_channels = [TINY_FVIT_EVA['embed_dim']] * 4
    m.neck.out_channels = 32
    # patch 8: levels at strides 2, 4, 8, 16 (p/4 ... 2p)
    m.rpn_head.in_channels = m.rpn_head.feat_channels = 32
    m.rpn_head.anchor_generator.strides = [2, 4, 8, 16, 32]
    roi = m.roi_head
    roi.bbox_roi_extractor.out_channels = 32
    roi.bbox_roi_extractor.featmap_strides = [2, 4, 8, 16]
    roi.bbox_head.in_channels = 32
    roi.bbox_head.conv_out_channels = 32
    roi.bbox_head.fc_out_channels = EMBED_DIM
    roi.bbox_head.cls_predictor_cfg.embeddings = vocabulary
    if base_classes != 'keep':
        roi.bbox_head.base_classes = base_classes
    if 'mask_head' in roi:
        roi.mask_roi_extractor.out_channels = 32
        roi.mask_roi_extractor.featmap_strides = [2, 4, 8, 16]
        roi.mask_head.in_channels = roi.mask_head.conv_out_channels = 32
    m.train_cfg.rpn_proposal.update(nms_pre=200, max_per_img=100)
    m.train_cfg.rcnn.sampler.num = 64
    m.test_cfg.rpn.update(nms_pre=200, max_per_img=50)
    for split in ('train', 'val', 'test'):
        loader = cfg.get(f'{split}_dataloader')
        if loader is not None:
            _resize_pipeline(loader.dataset.pipeline, IMAGE_SIZE)
            loader.num_workers = 0
            loader.persistent_workers = False
    return cfg
