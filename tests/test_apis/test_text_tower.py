# Copyright (c) mmclipself contributors. All rights reserved.
"""The text tower of a detector's image tower: derived, and checked."""
import os.path as osp

import pytest
import torch
import torch.nn.functional as F
from mmengine.config import Config
from mmengine.registry import init_default_scope

from mmclipself.apis import detector_text_tower, set_vocabulary
from mmclipself.apis.text_tower import has_text_tower
from mmclipself.registry import MODELS
from mmclipself.testing.fvit import REPO, write_tower

EVA_CFG = osp.join(REPO, 'configs/fvit/fvit_eva-vitb16_ov-coco.py')
OPENAI_CFG = osp.join(REPO, 'configs/fvit/fvit_openai-vitb16_ov-coco.py')
PATCHES_CFG = osp.join(
    REPO, 'configs/fvit/fvit_eva-vitb16-clipself-patches_ov-coco.py')


def test_derived_from_the_shipped_configs(tmp_path):
    assert detector_text_tower(Config.fromfile(EVA_CFG)) == (
        'EVA02-B-16', 'open_clip://EVA02-B-16/merged2b_s8b_b131k')
    cfg = Config.fromfile(OPENAI_CFG)
    assert detector_text_tower(cfg) == (
        'ViT-B-16-quickgelu', 'open_clip://ViT-B-16-quickgelu/openai')
    assert detector_text_tower(
        cfg.model.backbone.clip) == ('ViT-B-16-quickgelu',
                                     'open_clip://ViT-B-16-quickgelu/openai')
    # explicit values win
    assert detector_text_tower(cfg, 'ViT-B-16', 'x.pt') == ('ViT-B-16', 'x.pt')
    # a CLIPSelf-refined image tower holds no text tower
    cfg = Config.fromfile(PATCHES_CFG)
    cfg.model.backbone.clip.pretrained = write_tower(tmp_path / 'refined.pt')
    with pytest.raises(ValueError) as e:
        detector_text_tower(cfg)
    assert 'refined.pt hold no text tower' in str(e.value)
    assert 'open_clip://EVA02-B-16/<tag>' in str(e.value)
    assert detector_text_tower(
        cfg, text_pretrained='full.pt') == ('EVA02-B-16', 'full.pt')


def test_has_text_tower(tmp_path):
    image_only = write_tower(tmp_path / 'tower.pth')
    assert has_text_tower(image_only) is False
    full = tmp_path / 'full.pt'
    torch.save(
        {
            'state_dict': {
                'visual.conv1.weight': torch.zeros(1),
                'token_embedding.weight': torch.zeros(1)
            }
        }, full)
    assert has_text_tower(str(full)) is True
    (tmp_path / 'not_torch.pt').write_text('?')
    assert has_text_tower(str(tmp_path / 'not_torch.pt')) is None


def _vocabulary(path, model):
    """A 512-d vocabulary file that says which text tower made it."""
    names = ['person', 'cat', 'background']
    emb = F.normalize(torch.randn(len(names), 512), dim=-1)
    torch.save(dict(class_names=names, embeddings=emb, model=model), path)
    return str(path)


def _build(cfg_file, vocabulary):
    cfg = Config.fromfile(cfg_file)
    cfg.model.roi_head.bbox_head.cls_predictor_cfg.embeddings = vocabulary
    cfg.model.roi_head.bbox_head.base_classes = None
    init_default_scope(cfg.default_scope)
    return MODELS.build(cfg.model)  # random weights, nothing read


def test_a_vocabulary_of_another_clip_fails_at_build(tmp_path):
    # OpenAI ViT-B/16 and EVA02-CLIP B/16 both embed to 512-d
    eva = _vocabulary(tmp_path / 'eva.pt', 'EVA02-B-16')
    with pytest.raises(ValueError) as e:
        _build(OPENAI_CFG, eva)
    msg = str(e.value)
    assert msg.startswith('roi_head.bbox_head: ')
    assert 'eva.pt was encoded by the EVA02-B-16 text tower' in msg
    assert 'the image tower is ViT-B-16-quickgelu' in msg
    # the matching text tower builds (files of unknown provenance, such as
    # write_vocabulary's, build in every other test)
    openai = _vocabulary(tmp_path / 'openai.pt', 'ViT-B-16')
    model = _build(OPENAI_CFG, openai)
    # swapping to another CLIP's vocabulary is refused, model unchanged
    with pytest.raises(ValueError, match='set_vocabulary: .*EVA02-B-16'):
        set_vocabulary(model, eva)
    assert model.roi_head.bbox_head.class_names == ['person', 'cat']
