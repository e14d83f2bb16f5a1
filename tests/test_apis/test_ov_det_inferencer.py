# Copyright (c) mmclipself contributors. All rights reserved.
"""OVDetInferencer: MMDetection's DetInferencer with texts= per call."""
import copy
import json
import os.path as osp

import mmcv
import numpy as np
import open_clip
import pytest
import skimage.data
import torch

import mmclipself.apis.ov_det_inferencer as inferencer_module
from mmclipself.apis import OVDetInferencer, inference_ov_detector
from mmclipself.registry import INFERENCERS, MODELS
from mmclipself.testing.fvit import (EMBED_DIM, tiny_fvit_config, write_tower,
                                     write_vocabulary)
from mmclipself.testing.text import tiny_clip_cfg

COCO_CFG = 'configs/fvit/fvit_eva-vitb16_ov-coco.py'
TEXT_MODEL = 'TinyCLIP-mmclipself-inferencer'
#: the open_clip CLIP whose image tower is the tiny detector's tower
VISION = dict(image_size=32, layers=4, width=32, patch_size=8)
TINY_CLIP = dict(tiny_clip_cfg(), vision_cfg=dict(VISION, head_width=16))
assert TINY_CLIP['embed_dim'] == EMBED_DIM


@pytest.fixture(scope='module')
def tiny(tmp_path_factory):
    """A tiny F-ViT on the image tower of a full (image + text) CLIP file."""
    d = tmp_path_factory.mktemp('ov_inferencer')
    text_cfg = d / f'{TEXT_MODEL}.json'
    text_cfg.write_text(json.dumps(TINY_CLIP))
    open_clip.add_model_config(str(text_cfg))
    torch.manual_seed(0)
    clip_file = str(d / 'clip.pt')
    torch.save(open_clip.create_model(TEXT_MODEL).state_dict(), clip_file)

    eva_cfg = tiny_fvit_config(COCO_CFG, write_tower(d / 'eva_tower.pth'),
                               write_vocabulary(d / 'vocab.pt', ['person']))
    cfg = copy.deepcopy(eva_cfg)
    cfg.model.backbone.clip = dict(
        type='mmclipself.OpenAICLIPViT',
        arch=dict(VISION, heads=2, output_dim=EMBED_DIM),
        pretrained=clip_file)
    cfg.model.neck.in_channels = [VISION['width']] * 4
    config = str(d / 'tiny_fvit_openai.py')
    cfg.dump(config)
    model = MODELS.build(cfg.model)
    model.init_weights()
    torch.save({'state_dict': model.state_dict()}, d / 'fvit.pth')
    for name in ('chelsea', 'coffee'):
        mmcv.imwrite(
            getattr(skimage.data, name)()[..., ::-1], str(d / f'{name}.png'))
    return dict(
        dir=d,
        config=config,
        checkpoint=str(d / 'fvit.pth'),
        clip=clip_file,
        eva_config=eva_cfg)


def _counting(monkeypatch):
    calls = []
    encode = inferencer_module.resolve_vocabulary

    def resolve(*args, **kwargs):
        calls.append(args[0])
        return encode(*args, **kwargs)

    monkeypatch.setattr(inferencer_module, 'resolve_vocabulary', resolve)
    return calls


def test_texts_per_call_on_real_photos(tiny, monkeypatch, tmp_path):
    calls = _counting(monkeypatch)
    inferencer = OVDetInferencer(
        tiny['config'],
        tiny['checkpoint'],
        device='cpu',
        text_model=TEXT_MODEL,  # a dict arch has no open_clip name
        cache_dir=str(tmp_path / 'cache'))
    # the text weights come from the image tower's full CLIP file
    assert inferencer.text_tower() == (TEXT_MODEL, tiny['clip'])
    photo = str(tiny['dir'] / 'chelsea.png')
    out = inferencer(
        photo,
        texts=['cat', 'coffee cup'],
        return_vis=True,
        pred_score_thr=0.0,
        out_dir=str(tmp_path / 'out'))
    assert calls == [['cat', 'coffee cup']]
    pred = out['predictions'][0]
    assert len(pred['labels']) > 0
    assert max(pred['labels']) < 2
    assert inferencer.model.dataset_meta['classes'] == ('cat', 'coffee cup')
    assert inferencer.visualizer.dataset_meta['classes'] == ('cat',
                                                             'coffee cup')
    # drawn by MMDetection's visualiser on the RGB photo, and saved
    vis = out['visualization'][0]
    rgb = skimage.data.chelsea()
    assert vis.shape == rgb.shape and (vis != rgb).any()
    saved = mmcv.imread(str(tmp_path / 'out' / 'vis' / 'chelsea.png'))
    assert saved.shape == rgb.shape
    # the same boxes as the plain API on the same model
    again = inferencer(photo, return_datasamples=True)['predictions'][0]
    ref = inference_ov_detector(inferencer.model, photo)
    torch.testing.assert_close(again.pred_instances.bboxes,
                               ref.pred_instances.bboxes)
    torch.testing.assert_close(again.pred_instances.bboxes,
                               torch.tensor(pred['bboxes']))

    # the same texts (any form) are not encoded again, nor swapped
    fc_cls = inferencer.model.roi_head.bbox_head.fc_cls
    coffee = np.ascontiguousarray(skimage.data.coffee()[..., ::-1])
    out = inferencer(coffee, texts='cat, coffee cup')
    assert calls == [['cat', 'coffee cup']]
    assert inferencer.model.roi_head.bbox_head.fc_cls is fc_cls
    assert max(out['predictions'][0]['labels']) < 2
    out = inferencer([coffee, photo], texts=['spoon'], batch_size=2)
    assert calls == [['cat', 'coffee cup'], ['spoon']]
    assert [set(p['labels']) for p in out['predictions']] == [{0}, {0}]
    inferencer(photo, texts=['cat', 'coffee cup'])
    assert len(calls) == 2  # kept from the first call
    assert inferencer.model.dataset_meta['classes'] == ('cat', 'coffee cup')


def test_the_registry_builds_it(tiny):
    inferencer = INFERENCERS.build(
        dict(
            type='OVDetInferencer',
            model=tiny['config'],
            weights=tiny['checkpoint'],
            device='cpu'))
    assert isinstance(inferencer, OVDetInferencer)
    assert inferencer.model.dataset_meta['classes'] == ('person', )


def test_an_image_only_tower_asks_for_text_pretrained(tiny, tmp_path):
    # the EVA tower file of write_tower holds no text tower (like a
    # CLIPSelf-refined tower)
    inferencer = OVDetInferencer(tiny['eva_config'], device='cpu')
    photo = str(tiny['dir'] / 'chelsea.png')
    with pytest.raises(ValueError, match='pass text_model='):
        inferencer(photo, texts=['cat'])
    inferencer.text_model = TEXT_MODEL
    with pytest.raises(ValueError) as e:
        inferencer(photo, texts=['cat'])
    assert 'eva_tower.pth hold no text tower' in str(e.value)
    assert 'pass text_pretrained=' in str(e.value)
    assert inferencer.model.dataset_meta['classes'] == ('person', )
    with pytest.raises(TypeError, match='one vocabulary for all images'):
        inferencer([photo, photo], texts=[['cat'], ['dog']])
    with pytest.raises(ValueError, match='empty'):
        inferencer(photo, texts=' , ')
    assert not osp.exists(tmp_path / 'cache')
