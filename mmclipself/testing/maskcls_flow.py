# Copyright (c) mmclipself contributors. All rights reserved.
"""A tiny OVMask2Former run on a real photo, for the user-flow tests.

The inferencer, demo and benchmark tests share it (tests must not import
each other: MMSegmentation's wheel installs a top-level ``tests`` package
that can shadow ours).
"""
import json
import os.path as osp

import mmcv
import open_clip
import skimage.data
import torch
from mmengine.config import Config

from mmclipself.apis import encode_vocabulary
from mmclipself.registry import MODELS
from mmclipself.testing.fvit import REPO
from mmclipself.testing.maskcls import EMBED_DIM, tiny_maskcls_model
from mmclipself.testing.text import tiny_clip_cfg
from mmclipself.testing.towers import TINY_OPENAI

TEXT_MODEL = 'TinyCLIP-mmclipself-panoptic'
#: an open_clip CLIP whose image tower is the tiny model's OpenAI tower
TINY_CLIP = dict(
    tiny_clip_cfg(),
    vision_cfg=dict(
        image_size=TINY_OPENAI['image_size'],
        layers=TINY_OPENAI['layers'],
        width=TINY_OPENAI['width'],
        patch_size=TINY_OPENAI['patch_size'],
        head_width=TINY_OPENAI['width'] // TINY_OPENAI['heads']))
assert TINY_CLIP['embed_dim'] == TINY_OPENAI['output_dim'] == EMBED_DIM
TRAIN = ['person', 'car', 'road', 'grass']  # 2 things, then 2 stuff
TEST_SHORT_SIDE = 64  # the ADE test Resize (2560, 640), shrunk


def write_tiny_flow(d) -> dict:
    """A tiny R50-style OVMask2Former config, checkpoint and CLIP file.

    The model is :func:`tiny_maskcls_model` (``'r50'``) in the shipped ADE20K
    panoptic test data config and the detection runtime (MMDetection's
    visualiser), test images resized to short side 64. Its CLIP tower reads
    the image tower of a full tiny open_clip CLIP (registered as
    ``TEXT_MODEL`` from ``d/TEXT_MODEL.json``), whose text tower encodes
    the training vocabulary ``TRAIN``.
    """
    text_cfg = str(d / f'{TEXT_MODEL}.json')
    with open(text_cfg, 'w') as f:
        json.dump(TINY_CLIP, f)
    open_clip.add_model_config(text_cfg)
    torch.manual_seed(0)
    clip_file = str(d / 'clip.pt')
    torch.save(open_clip.create_model(TEXT_MODEL).state_dict(), clip_file)
    train = encode_vocabulary(
        TRAIN, TEXT_MODEL, clip_file, out_file=str(d / 'train_vocab.pt'))
    base = osp.join(REPO, 'configs', '_base_')
    files = [
        osp.join(base, 'datasets', 'maskcls_ade20k_panoptic.py'),
        osp.join(base, 'det_runtime.py')
    ]
    cfg = Config.fromstring(f'_base_ = {files!r}\n', '.py')
    cfg.model = tiny_maskcls_model('r50', train, 2, tower=clip_file)
    # MMDetection's instance top-k needs k <= queries (6) x classes
    cfg.model.test_cfg.max_per_image = 5
    for t in cfg.test_dataloader.dataset.pipeline:
        if t['type'] == 'Resize':
            t['scale'] = (4 * TEST_SHORT_SIDE, TEST_SHORT_SIDE)
    config = str(d / 'tiny_maskcls.py')
    cfg.dump(config)
    torch.manual_seed(0)
    model = MODELS.build(cfg.model)
    model.init_weights()
    # a random void embedding at the learned scale (1 / 0.07) outscores
    # every class; at scale 1 the CLIP scores decide (the void of the
    # fusion is then ~1 / (K + 1)), so the random model finds segments
    model.panoptic_head.cls_embed.logit_scale.data.zero_()
    checkpoint = str(d / 'maskcls.pth')
    torch.save({'state_dict': model.state_dict()}, checkpoint)
    photo = str(d / 'chelsea.png')
    mmcv.imwrite(skimage.data.chelsea()[..., ::-1], photo)
    return dict(
        dir=d,
        config=config,
        checkpoint=checkpoint,
        clip=clip_file,
        text_cfg=text_cfg,
        photo=photo)
