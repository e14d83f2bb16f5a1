# Copyright (c) mmclipself contributors. All rights reserved.
"""OVPanopticInferencer: DetInferencer with texts= / stuff_texts= per call."""
import json
import os.path as osp

import mmcv
import numpy as np
import pytest
import skimage.data
import torch
from panopticapi.utils import rgb2id

import mmclipself.apis.ov_panoptic_inferencer as inferencer_module
from mmclipself.apis import OVPanopticInferencer
from mmclipself.registry import INFERENCERS
from mmclipself.testing.maskcls_flow import TEXT_MODEL, TRAIN, write_tiny_flow


@pytest.fixture(scope='module')
def tiny(tmp_path_factory):
    return write_tiny_flow(tmp_path_factory.mktemp('ov_panoptic'))


def _inferencer(tiny, tmp_path, **kwargs):
    return OVPanopticInferencer(
        tiny['config'],
        kwargs.pop('weights', tiny['checkpoint']),
        device='cpu',
        show_progress=False,
        text_model=TEXT_MODEL,  # a dict arch has no open_clip name
        cache_dir=str(tmp_path / 'cache'),
        **kwargs)


def _counting(monkeypatch):
    calls = []
    encode = inferencer_module.resolve_vocabulary

    def resolve(*args, **kwargs):
        calls.append(args[0])
        return encode(*args, **kwargs)

    monkeypatch.setattr(inferencer_module, 'resolve_vocabulary', resolve)
    return calls


def test_free_text_panoptic_on_a_real_photo(tiny, monkeypatch, tmp_path):
    calls = _counting(monkeypatch)
    inferencer = _inferencer(tiny, tmp_path)
    # the text weights come from the image tower's full CLIP file
    assert inferencer.text_tower() == (TEXT_MODEL, tiny['clip'])
    out = inferencer(
        tiny['photo'],
        texts=['cat'],
        stuff_texts='wall. grass, lawn',
        return_vis=True,
        out_dir=str(tmp_path / 'out'))
    classes = ('cat', 'wall', 'grass, lawn')
    assert calls == [list(classes)]
    model = inferencer.model
    assert model.class_names == classes
    assert (model.num_classes, model.num_things_classes) == (3, 1)
    # seen: a synonym among the training classes ("grass")
    assert model.seen_mask.tolist() == [False, False, True]
    meta = inferencer.visualizer.dataset_meta
    assert meta['classes'] == classes
    assert meta['thing_classes'] == ('cat', )
    assert meta['stuff_classes'] == ('wall', 'grass, lawn')
    assert len(meta['palette']) == 3

    pred = out['predictions'][0]
    segments = pred['segments_info']
    assert segments, 'no panoptic segment'
    for s in segments:
        assert 0 <= s['label'] < 3 and s['name'] == classes[s['label']]
        assert s['isthing'] == (s['label'] == 0)
        # things carry an instance id (label + k * 1000, k >= 1)
        assert (s['id'] >= 1000) == s['isthing']
    # the RGB-encoded map of DetInferencer holds the same segments
    ids = rgb2id(pred['panoptic_seg'])
    h, w = skimage.data.chelsea().shape[:2]
    assert ids.shape == (h, w)
    for s in segments:
        assert (ids == s['id']).sum() == s['area']
    assert sum(s['area'] for s in segments) == (ids > 0).sum()
    # instances (test_cfg instance_on) over the thing classes only
    assert set(pred['labels']) <= {0}
    # drawn by MMDetection's visualiser on the RGB photo, and saved
    vis = out['visualization'][0]
    rgb = skimage.data.chelsea()
    assert vis.shape == rgb.shape and (vis != rgb).any()
    saved = mmcv.imread(str(tmp_path / 'out' / 'vis' / 'chelsea.png'))
    assert saved.shape == rgb.shape

    # same names, another split: not encoded again; the split changes
    out = inferencer(
        tiny['photo'],
        texts='cat. wall',
        stuff_texts=['grass, lawn'],
        return_datasamples=True)
    assert calls == [list(classes)]
    assert model.num_things_classes == 2
    pan = out['predictions'][0].pred_panoptic_seg.sem_seg[0]
    labels = (pan % 1000).unique()
    assert ((labels >= 0) & (labels <= 3)).all()  # 3: void
    # None keeps the vocabulary of the last call
    inferencer(tiny['photo'])
    assert model.class_names == classes and calls == [list(classes)]


def test_semantic_and_saved_predictions(tiny, tmp_path):
    inferencer = _inferencer(
        tiny, tmp_path, cfg_options={'model.test_cfg.semantic_on': True})
    out_dir = tmp_path / 'out'
    out = inferencer(
        tiny['photo'],
        texts=['cat', 'sofa'],
        stuff_texts=['wall'],
        out_dir=str(out_dir),
        no_save_pred=False)
    pred = out['predictions'][0]
    sem = mmcv.imread(pred['sem_seg_path'], 'unchanged')
    assert sem.dtype == np.uint16
    assert sem.shape == skimage.data.chelsea().shape[:2]
    assert sem.max() < 3
    saved = json.loads((out_dir / 'preds' / 'chelsea.json').read_text())
    assert saved['segments_info'] == pred['segments_info']
    assert saved['sem_seg_path'] == pred['sem_seg_path']
    assert osp.isfile(pred['panoptic_seg_path'])
    # in memory: the label map itself
    pred = inferencer(tiny['photo'])['predictions'][0]
    np.testing.assert_array_equal(pred['sem_seg'], sem)


def test_nothing_recognised_is_drawn_without_segments(tiny, tmp_path):
    # no score passes the threshold: every pixel is void, which
    # MMDetection's visualiser alone cannot draw
    inferencer = _inferencer(
        tiny, tmp_path, cfg_options={'model.test_cfg.object_mask_thr': 1.0})
    out = inferencer(tiny['photo'], texts=['cat'], return_vis=True)
    pred = out['predictions'][0]
    assert pred['segments_info'] == []
    assert (rgb2id(pred['panoptic_seg']) == 0).all()  # VOID
    assert out['visualization'][0].shape == skimage.data.chelsea().shape


def test_strict_loading_names_a_renamed_key(tiny, tmp_path):
    state = torch.load(tiny['checkpoint'], weights_only=False)['state_dict']
    key = 'panoptic_head.cls_embed.proj.weight'
    assert key in state
    state['panoptic_head.cls_embed.projection.weight'] = state.pop(key)
    bad = str(tmp_path / 'renamed.pth')
    torch.save({'state_dict': state}, bad)
    with pytest.raises(RuntimeError) as e:
        _inferencer(tiny, tmp_path, weights=bad)
    message = str(e.value)
    assert 'renamed.pth' in message and key in message
    assert 'panoptic_head.cls_embed.projection.weight' in message
    with pytest.raises(FileNotFoundError, match='checkpoint not found'):
        _inferencer(tiny, tmp_path, weights=str(tmp_path / 'nope.pth'))


def test_registry_and_bad_texts(tiny, tmp_path):
    inferencer = INFERENCERS.build(
        dict(
            type='OVPanopticInferencer',
            model=tiny['config'],
            weights=tiny['checkpoint'],
            device='cpu',
            show_progress=False))
    assert isinstance(inferencer, OVPanopticInferencer)
    # the config's vocabulary until texts are given
    assert inferencer.model.dataset_meta['classes'] == tuple(TRAIN)
    assert inferencer.model.dataset_meta['thing_classes'] == ('person', 'car')
    # a dict arch names no open_clip model: the message says what to pass
    with pytest.raises(ValueError, match='pass text_model='):
        inferencer(tiny['photo'], texts=['cat'])
    inferencer.text_model = TEXT_MODEL
    inferencer.cache_dir = str(tmp_path / 'cache')
    with pytest.raises(TypeError, match='one vocabulary for all images'):
        inferencer.set_texts([['cat'], ['dog']])
    with pytest.raises(ValueError, match='duplicate class names'):
        inferencer.set_texts(['cat', 'wall'], stuff_texts=['wall'])
    with pytest.raises(ValueError, match='reserved'):
        inferencer.set_texts(['cat', 'background'])
    with pytest.raises(ValueError, match='empty'):
        inferencer.set_texts(' , ')
    assert inferencer.model.class_names == tuple(TRAIN)
    assert not osp.exists(tmp_path / 'cache')
