# Copyright (c) mmclipself contributors. All rights reserved.
"""The Cat-Seg configs build at full size and train what the release trains.

Models are built on the meta device (shapes only), in MMSegmentation's
scope. Counts are checked against independent references: open_clip's own
towers (built on meta too) and by-hand products of the published widths.
"""
import glob
import os.path as osp
from fnmatch import fnmatchcase

import pytest
import torch
from mmengine.config import Config
from mmengine.optim import build_optim_wrapper
from mmengine.registry import init_default_scope

from mmclipself.registry import MODELS
from mmclipself.testing.configs import config_depth
from mmclipself.testing.runs import REPO
from mmclipself.vocab import get_class_names

CONFIG_DIR = osp.join(REPO, 'configs', 'catseg')
TRAIN = sorted(glob.glob(osp.join(CONFIG_DIR, '*_4xb1-80k_*.py')))
TEST = sorted(glob.glob(osp.join(CONFIG_DIR, '*-640x640.py')))
# (arch, open_clip image tower) -> blocks, width, text blocks, text width
WIDTHS = {
    'vit-b16': (12, 768, 12, 512),
    'eva02-b16': (12, 768, 12, 512),
    'vit-l14-336': (24, 1024, 12, 768),
    'vit-l14': (24, 1024, 12, 768),
}


def _name(path):
    return osp.basename(path)[:-3]


def _build(cfg):
    init_default_scope('mmseg')
    with torch.device('meta'):
        return MODELS.build(cfg.model)


def test_the_matrix_of_configs_exists():
    names = {_name(p) for p in TRAIN}
    for arch in ('openai-vitb16', 'openai-vitl14-336', 'eva-vitb16'):
        assert f'catseg_{arch}_cvpr_4xb1-80k_coco-stuff164k-384x384' in names
    for arch in ('openai-vitb16', 'openai-vitl14-336'):
        assert f'catseg_{arch}_2023_4xb1-80k_coco-stuff164k-384x384' in names
    # CLIPSelf-initialised twins of every training config
    assert len(names) == 10
    assert sum('-clipself_' in n for n in names) == 5
    # one test config per evaluation set and model family
    sets = ('ade20k-150', 'ade20k-847', 'pascal-context-59',
            'pascal-context-459', 'voc20', 'voc20b')
    for s in sets:
        # OpenAI B/16 and L/14 x {2023, CVPR'24} x {original, CLIPSelf}
        # minus B/16 2023 CLIPSelf (same tower and dense path as the
        # original), EVA02 B/16 (original and CLIPSelf share one)
        assert sum(_name(p).endswith(f'_{s}-640x640') for p in TEST) == 8
    for path in TRAIN + TEST:
        assert config_depth(path) <= 3, path


@pytest.mark.parametrize('path', TRAIN, ids=_name)
def test_training_config_trains_what_the_release_trains(path):
    cfg = Config.fromfile(path)
    assert cfg.train_cfg.max_iters == 80000
    assert cfg.train_dataloader.batch_size == 1  # x 4 GPUs = release 4
    if 'vitl14' in path and '_2023_' in path:
        # mmseg's SwinTransformer cannot be built on the meta device: its
        # frozen guidance backbone is checked alone, on the CPU
        init_default_scope('mmseg')
        swin = MODELS.build(cfg.model.guidance_backbone)
        n = sum(p.numel() for p in swin.parameters())
        assert 59e6 < n < 60e6  # Swin-B, stages of depth 2, 2, 18
        assert cfg.model.freeze_guidance_backbone
        return
    model = _build(cfg)
    arch = cfg.model.clip_tower.arch
    blocks, width, text_blocks, text_width = WIDTHS[arch]
    trained = {
        n: p.numel()
        for n, p in model.named_parameters() if p.requires_grad
    }
    image = {n: v for n, v in trained.items() if n.startswith('clip_tower.')}
    text = {n: v for n, v in trained.items() if n.startswith('text_encoder.')}
    if '_cvpr_' in path:
        # only the q and v weights of both towers (facts §2.1)
        assert all(fnmatchcase(n, '*.attn.[qv]_proj.weight')
                   for n in image), image
        assert sum(image.values()) == blocks * 2 * width * width
        assert all(fnmatchcase(n, '*.attn.[qv]_proj.weight') for n in text)
        assert sum(text.values()) == text_blocks * 2 * text_width**2
    else:
        # every visual attention parameter + the position embedding
        assert not text
        attn = blocks * (4 * width * width + 4 * width)
        grid = 224 // 16
        pos = (grid * grid + 1) * width
        assert sum(image.values()) == attn + pos
        assert any(n.endswith('positional_embedding') for n in image)
    # the image tower is the published architecture
    import open_clip
    reference = {
        'vit-b16': 'ViT-B-16-quickgelu',
        'eva02-b16': 'EVA02-B-16',
        'vit-l14-336': 'ViT-L-14-336-quickgelu',
        'vit-l14': 'ViT-L-14-quickgelu'
    }[arch]
    with torch.device('meta'):
        ref = open_clip.create_model(reference, device='meta').visual
    assert sum(p.numel() for p in model.clip_tower.parameters()) == \
        sum(p.numel() for p in ref.parameters())


def test_clip_parameters_get_the_release_lr_and_norms_no_decay():
    path = osp.join(
        CONFIG_DIR, 'catseg_openai-vitb16_2023_4xb1-80k_'
        'coco-stuff164k-384x384.py')
    cfg = Config.fromfile(path)
    model = _build(cfg)
    wrapper = build_optim_wrapper(model, cfg.optim_wrapper)
    lr_of = {}
    for group in wrapper.optimizer.param_groups:
        for p in group['params']:
            lr_of[id(p)] = (group['lr'], group['weight_decay'])
    named = dict(model.named_parameters())
    q = named['clip_tower.visual.transformer.resblocks.0.attn.q_proj.weight']
    assert lr_of[id(q)] == pytest.approx((2e-6, 1e-4))
    # a plain parameter: decayed as in the release (WEIGHT_DECAY_EMBED 0
    # applies to nn.Embedding modules only)
    pos = named['clip_tower.visual.positional_embedding']
    assert lr_of[id(pos)] == pytest.approx((2e-6, 1e-4))
    conv = named['guidance_backbone.conv1.weight']
    assert lr_of[id(conv)] == pytest.approx((2e-6, 1e-4))
    head = next(p for n, p in named.items()
                if n.startswith('decode_head.') and p.dim() == 4)
    assert lr_of[id(head)] == pytest.approx((2e-4, 1e-4))
    norm = next(p for n, p in named.items()
                if n.startswith('decode_head.') and 'norm' in n)
    assert lr_of[id(norm)][1] == 0.0
    assert cfg.optim_wrapper.clip_grad == dict(max_norm=0.01, norm_type=2)


@pytest.mark.parametrize('path', TEST, ids=_name)
def test_test_config_scores_its_set_with_its_vocabulary(path):
    cfg = Config.fromfile(path)
    vocab = cfg.model.test_vocabulary
    n = len(get_class_names(vocab))
    expected = {
        'ade20k': 150,
        'ade847': 847,
        'pascal_context59': 59,
        'pc459': 459,
        'voc20': 20,
        'voc20b': 59
    }[vocab]
    assert n == expected
    assert cfg.model.test_cfg.mode == 'catseg'
    assert cfg.test_dataloader.batch_size == 1
    ignore = cfg.test_evaluator.ignore_index
    assert ignore == {'ade847': 65535, 'pc459': 459}.get(vocab, 255)


def test_the_dense_path_of_each_family():
    """Original-CLIP CVPR'24: the release's class-token skip; CLIPSelf
    towers and 2023: the per-token skip (segmentation facts §1.1)."""
    for path in TRAIN:
        tower = Config.fromfile(path).model.clip_tower
        cls_skip = '_cvpr_' in path and '-clipself' not in path and \
            'eva' not in path
        assert tower.dense_residual == ('cls' if cls_skip else 'token'), path


def test_parts_that_do_not_fit_fail_at_build():
    from mmclipself.testing.catseg import tiny_catseg_config
    cfg = tiny_catseg_config()
    cfg.model.decode_head.num_templates = 3  # the CVPR'24 prompt is one
    init_default_scope('mmseg')
    with pytest.raises(ValueError, match='num_templates=3 but 1 templates'):
        MODELS.build(cfg.model)
    cfg = tiny_catseg_config()
    cfg.model.test_cfg.update(mode='slide', crop_size=48, stride=32)
    model = MODELS.build(cfg.model)
    # MMSegmentation's slide inference unpacks (h, w) pairs
    assert model.test_cfg.crop_size == (48, 48)
    assert model.test_cfg.stride == (32, 32)
