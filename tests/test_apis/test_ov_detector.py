# Copyright (c) mmclipself contributors. All rights reserved.
"""F-ViT inference on any vocabulary: init, swap, free-text classes."""
import json
import os.path as osp

import mmcv
import numpy as np
import open_clip
import pytest
import skimage.data
import torch
import torch.nn.functional as F

from mmclipself.apis import (encode_vocabulary, inference_ov_detector,
                             init_ov_detector, parse_class_names,
                             set_vocabulary)
from mmclipself.models.text import build_text_model
from mmclipself.registry import MODELS
from mmclipself.testing.fvit import (EMBED_DIM, tiny_fvit_config, write_tower,
                                     write_vocabulary)
from mmclipself.testing.text import tiny_clip_cfg
from mmclipself.vocab import encode_class_names

COCO_CFG = 'configs/fvit/fvit_eva-vitb16_ov-coco.py'
TRAIN_NAMES = ['person', 'cat', 'cup', 'spoon']  # person, spoon: coco48
NEW_NAMES = ['dog', 'umbrella', 'person']
TEXT_MODEL = 'TinyCLIP-mmclipself-ovdet'
# an open_clip CLIP whose embeddings are as wide as the tiny detector's
TINY_CLIP = tiny_clip_cfg()
assert TINY_CLIP['embed_dim'] == EMBED_DIM


@pytest.fixture(scope='module')
def tiny(tmp_path_factory):
    """A tiny F-ViT config file, its checkpoint, vocabularies and a photo."""
    d = tmp_path_factory.mktemp('ov_detector')
    tower = write_tower(d / 'tower.pth')
    train_vocab = write_vocabulary(d / 'train.pt', TRAIN_NAMES)
    new_vocab = write_vocabulary(d / 'new.pt', NEW_NAMES, seed=1)
    cfg = tiny_fvit_config(COCO_CFG, tower, train_vocab)
    cfg.dump(str(d / 'tiny_fvit.py'))
    torch.manual_seed(0)
    model = MODELS.build(cfg.model)
    model.init_weights()
    with torch.no_grad():  # a "learned" temperature
        model.roi_head.bbox_head.fc_cls.temperature.fill_(42.)
    torch.save({'state_dict': model.state_dict()}, d / 'fvit.pth')
    photo = skimage.data.chelsea()  # RGB (300, 451, 3)
    mmcv.imwrite(photo[..., ::-1], str(d / 'chelsea.png'))
    return dict(
        dir=d,
        config=str(d / 'tiny_fvit.py'),
        checkpoint=str(d / 'fvit.pth'),
        state=model.state_dict(),
        train_vocab=train_vocab,
        new_vocab=new_vocab,
        photo=str(d / 'chelsea.png'),
        photo_shape=photo.shape[:2])


def _assert_vocabulary(model, names):
    head = model.roi_head.bbox_head
    assert head.class_names == names
    assert head.num_classes == len(names)
    assert head.fc_cls.out_features == len(names) + 1
    assert model.dataset_meta['classes'] == tuple(names)
    # transfer: every class is base, the background weight is kept
    assert head.class_weight.tolist() == pytest.approx([1.] * len(names) +
                                                       [0.6])
    assert bool(head.base_mask.all())
    assert head.fc_cls.temperature.item() == pytest.approx(42.)


def test_init_loads_the_checkpoint_on_another_vocabulary(tiny):
    model = init_ov_detector(
        tiny['config'], tiny['checkpoint'], vocabulary=tiny['new_vocab'])
    _assert_vocabulary(model, NEW_NAMES)
    assert not model.training
    state = model.state_dict()
    assert set(state) == set(tiny['state'])
    for k, v in tiny['state'].items():
        assert torch.equal(state[k], v), k
    head_cfg = model.cfg.model.roi_head.bbox_head
    assert head_cfg.cls_predictor_cfg.embeddings == tiny['new_vocab']
    assert head_cfg.num_classes is None and head_cfg.base_classes is None


def test_set_vocabulary_swaps_in_place_and_detects(tiny):
    # the config's own vocabulary keeps its base/novel split
    model = init_ov_detector(tiny['config'], tiny['checkpoint'])
    head = model.roi_head.bbox_head
    assert head.class_names == TRAIN_NAMES
    assert head.class_weight.tolist() == pytest.approx([1, 0, 0, 1, 0.6])
    old_fc = head.fc_cls

    names = set_vocabulary(model, tiny['new_vocab'])
    assert names == NEW_NAMES
    assert head.fc_cls is not old_fc
    _assert_vocabulary(model, NEW_NAMES)
    emb = torch.load(tiny['new_vocab'])['embeddings']
    torch.testing.assert_close(head.fc_cls.text_embeddings,
                               F.normalize(emb[:3], dim=-1))
    torch.testing.assert_close(head.fc_cls.bg_embedding,
                               F.normalize(emb[3], dim=-1))

    result = inference_ov_detector(model, tiny['photo'])
    pred = result.pred_instances
    assert len(pred) > 0
    assert int(pred.labels.max()) < len(NEW_NAMES)
    h, w = tiny['photo_shape']
    assert result.ori_shape == (h, w)
    assert float(pred.bboxes[:, 2].max()) <= w + 1e-3
    assert float(pred.bboxes[:, 3].max()) <= h + 1e-3
    # an array (BGR, as read by mmcv) gives the same detections
    img = mmcv.imread(tiny['photo'])
    batch = inference_ov_detector(model, [img])
    assert isinstance(batch, list) and len(batch) == 1
    torch.testing.assert_close(batch[0].pred_instances.bboxes, pred.bboxes)


def test_vocabulary_errors(tiny):
    model = init_ov_detector(
        tiny['config'], tiny['checkpoint'], vocabulary=tiny['new_vocab'])
    fc = model.roi_head.bbox_head.fc_cls
    wide = write_vocabulary(tiny['dir'] / 'wide.pt', ['a', 'b'], dim=32)
    with pytest.raises(ValueError, match='32-d embeddings'):
        set_vocabulary(model, wide)
    assert model.roi_head.bbox_head.fc_cls is fc  # unchanged
    assert model.dataset_meta['classes'] == tuple(NEW_NAMES)
    with pytest.raises(FileNotFoundError, match='missing.pt'):
        set_vocabulary(model, str(tiny['dir'] / 'missing.pt'))
    with pytest.raises(ValueError, match='text_model'):
        set_vocabulary(model, ['cat'])
    with pytest.raises(ValueError, match='empty'):
        parse_class_names(' , ,')
    with pytest.raises(ValueError, match='reserved'):
        parse_class_names('cat,background')
    with pytest.raises(ValueError, match=r"duplicate class names \['cat'\]"):
        parse_class_names('cat, dog,cat')
    assert parse_class_names(' cat,coffee cup ,') == ['cat', 'coffee cup']
    with pytest.raises(FileNotFoundError, match='nope.pth'):
        init_ov_detector(tiny['config'], str(tiny['dir'] / 'nope.pth'))
    with pytest.raises(FileNotFoundError, match='nope.png'):
        inference_ov_detector(model, str(tiny['dir'] / 'nope.png'))


def test_a_mismatched_checkpoint_lists_the_keys(tiny):
    state = dict(tiny['state'])
    state['roi_head.extra.weight'] = torch.zeros(1)
    del state['roi_head.bbox_head.fc_reg.bias']
    path = tiny['dir'] / 'bad.pth'
    torch.save({'state_dict': state}, path)
    with pytest.raises(RuntimeError) as e:
        init_ov_detector(tiny['config'], str(path))
    assert 'roi_head.extra.weight' in str(e.value)
    assert 'roi_head.bbox_head.fc_reg.bias' in str(e.value)


def test_free_text_classes_are_encoded_with_the_vild_prompts(tiny, tmp_path):
    cfg_file = tmp_path / f'{TEXT_MODEL}.json'
    cfg_file.write_text(json.dumps(TINY_CLIP))
    open_clip.add_model_config(str(cfg_file))
    torch.manual_seed(0)
    clip = open_clip.create_model(TEXT_MODEL)
    weights = str(tmp_path / 'tiny_clip.pt')
    torch.save(clip.state_dict(), weights)
    cache = str(tmp_path / 'cache')
    names = ['cat', 'coffee cup', 'person']

    path = encode_vocabulary(
        'cat, coffee cup, person', TEXT_MODEL, weights, cache_dir=cache)
    assert osp.dirname(path) == cache
    saved = torch.load(path)
    assert saved['class_names'] == names + ['background']
    expected = encode_class_names(
        build_text_model(TEXT_MODEL, weights),
        open_clip.get_tokenizer(TEXT_MODEL), names + ['background'])
    torch.testing.assert_close(saved['embeddings'], expected)
    mtime = osp.getmtime(path)
    assert encode_vocabulary(
        names, TEXT_MODEL, weights, cache_dir=cache) == path  # cached
    assert osp.getmtime(path) == mtime

    model = init_ov_detector(
        tiny['config'],
        tiny['checkpoint'],
        vocabulary=names,
        text_model=TEXT_MODEL,
        text_pretrained=weights,
        cache_dir=cache)
    _assert_vocabulary(model, names)
    torch.testing.assert_close(model.roi_head.bbox_head.fc_cls.embeddings(),
                               expected)
    set_vocabulary(
        model, ['dog'],
        text_model=TEXT_MODEL,
        text_pretrained=weights,
        cache_dir=cache)
    _assert_vocabulary(model, ['dog'])
    pred = inference_ov_detector(
        model,
        np.ascontiguousarray(skimage.data.chelsea()[..., ::-1])).pred_instances
    assert len(pred) > 0 and set(pred.labels.tolist()) == {0}
