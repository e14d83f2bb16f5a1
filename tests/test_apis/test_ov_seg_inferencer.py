# Copyright (c) mmclipself contributors. All rights reserved.
"""OVSegInferencer: MMSegmentation's MMSegInferencer with texts= per call."""
import copy

import mmcv
import numpy as np
import pytest
import skimage.data
import torch
from mmengine.registry import DefaultScope

from mmclipself.apis import OVSegInferencer
from mmclipself.apis.ov_seg_inferencer import class_color
from mmclipself.engine.strict_loading import CheckpointMismatchError
from mmclipself.registry import INFERENCERS, MODELS
from mmclipself.testing.catseg import (TEST_SIZE, catseg_base_config,
                                       tiny_catseg_config)
from mmclipself.testing.text import tiny_clip_cfg, tiny_open_clip

TEXTS = ['cat', 'wall', 'floor']


def _build(cfg, seed=0):
    torch.manual_seed(seed)
    with DefaultScope.overwrite_default_scope('mmseg'):
        model = MODELS.build(copy.deepcopy(cfg.model))
    model.init_weights()
    return model.eval()


@pytest.fixture(scope='module')
def tiny(tmp_path_factory):
    """A tiny CVPR'24 Cat-Seg, its checkpoint and real photos."""
    d = tmp_path_factory.mktemp('ov_seg_inferencer')
    cfg = tiny_catseg_config()
    config = str(d / 'tiny_catseg.py')
    cfg.dump(config)
    model = _build(cfg)
    torch.save({'state_dict': model.state_dict()}, d / 'catseg.pth')
    bgr = skimage.data.chelsea()[..., ::-1]
    mmcv.imwrite(bgr, str(d / 'chelsea.png'))
    # at the test size, the test pipeline's resizes are the identity
    small = mmcv.imresize(bgr, (TEST_SIZE, TEST_SIZE))
    mmcv.imwrite(small, str(d / 'chelsea_small.png'))
    return dict(
        dir=d,
        cfg=cfg,
        config=config,
        checkpoint=str(d / 'catseg.pth'),
        state=model.state_dict(),
        small=small)


def _reference_probs(tiny, texts):
    """The 5-view probabilities of a model configured with ``texts``."""
    cfg = copy.deepcopy(tiny['cfg'])
    cfg.model.test_vocabulary = list(texts)
    model = _build(cfg, seed=1)  # other random weights, then the checkpoint
    model.load_state_dict(tiny['state'])
    pre = cfg.model.data_preprocessor
    rgb = torch.from_numpy(tiny['small'][..., ::-1].copy()).float()
    x = (rgb - torch.tensor(pre.mean)) / torch.tensor(pre.std)
    with torch.no_grad():
        return model.catseg_inference(x.permute(2, 0, 1)[None])[0]


def test_free_text_classes_on_a_real_photo(tiny, tmp_path):
    inferencer = OVSegInferencer(
        tiny['config'], tiny['checkpoint'], device='cpu', show_progress=False)
    # loaded strictly from the checkpoint
    for key, value in inferencer.model.state_dict().items():
        torch.testing.assert_close(value, tiny['state'][key], msg=key)
    photo = str(tiny['dir'] / 'chelsea.png')
    out = inferencer(
        photo, texts=TEXTS, return_vis=True, out_dir=str(tmp_path / 'out'))
    labels = out['predictions']
    rgb = skimage.data.chelsea()
    assert labels.shape == rgb.shape[:2]
    assert labels.min() >= 0 and labels.max() < len(TEXTS)
    assert len(np.unique(labels)) > 1  # a segmentation, not one class
    assert inferencer.model.dataset_meta['classes'] == tuple(TEXTS)
    assert inferencer.model.dataset_meta['palette'] == [
        list(class_color(n)) for n in TEXTS
    ]
    # drawn by MMSegmentation's visualiser on the RGB photo, and saved
    assert inferencer.visualizer.dataset_meta['classes'] == tuple(TEXTS)
    vis = out['visualization']
    assert vis.shape == rgb.shape and (vis != rgb).any()
    saved = mmcv.imread(str(tmp_path / 'out' / 'vis' / 'chelsea.png'))
    assert saved.shape == rgb.shape
    pred_png = mmcv.imread(
        str(tmp_path / 'out' / 'pred' / '00000000_pred.png'), 'unchanged')
    np.testing.assert_array_equal(pred_png, labels)


def test_texts_switch_the_vocabulary_as_a_config_would(tiny):
    inferencer = OVSegInferencer(
        tiny['config'], tiny['checkpoint'], device='cpu', show_progress=False)
    photo = str(tiny['dir'] / 'chelsea_small.png')
    for texts, names in [
        (TEXTS, TEXTS),
        ('cat. sofa, couch. wall. sky. floor',
         ['cat', 'sofa, couch', 'wall', 'sky', 'floor']),
        ('dog , grass', ['dog', 'grass']),
    ]:
        sample = inferencer(photo, texts=texts, return_datasamples=True)
        probs = sample.seg_logits.data
        # one channel per class of this call's vocabulary
        assert probs.shape == (len(names), TEST_SIZE, TEST_SIZE)
        assert inferencer.model.dataset_meta['classes'] == tuple(names)
        # equals a segmentor whose config names these classes
        torch.testing.assert_close(
            probs, _reference_probs(tiny, names), rtol=1e-5, atol=1e-6)
        labels = sample.pred_sem_seg.data[0]
        torch.testing.assert_close(labels, probs.argmax(0))
        assert labels.max() < len(names)
    # texts=None keeps the last vocabulary; the same texts change nothing
    calls = []
    model = inferencer.model
    set_vocabulary = model.set_vocabulary
    model.set_vocabulary = lambda names: calls.append(names) or \
        set_vocabulary(names)
    out = inferencer(photo)
    assert out['predictions'].max() < 2
    inferencer(photo, texts=['dog', 'grass'])
    assert calls == []
    inferencer(photo, texts='sky,dog,grass')
    assert calls == [['sky', 'dog', 'grass']]


def test_bad_texts_are_refused_and_change_nothing(tiny):
    inferencer = OVSegInferencer(
        tiny['config'], device='cpu', show_progress=False, vocabulary=TEXTS)
    photo = str(tiny['dir'] / 'chelsea_small.png')
    with pytest.raises(ValueError, match='at least 2'):
        inferencer(photo, texts=['cat'])
    with pytest.raises(ValueError, match='cat'):
        inferencer(photo, texts='cat, dog, cat')
    with pytest.raises(ValueError, match='empty'):
        inferencer(photo, texts=' , ')
    with pytest.raises(ValueError, match='empty synonym'):
        inferencer(photo, texts='cat. sofa,. wall')
    with pytest.raises(TypeError, match='one vocabulary for all images'):
        inferencer([photo, photo], texts=[['cat'], ['dog']])
    assert inferencer.model.dataset_meta['classes'] == tuple(TEXTS)
    assert tuple(inferencer.model.class_names) == tuple(TEXTS)


def test_checkpoints_load_strictly(tiny, tmp_path):
    with pytest.raises(FileNotFoundError, match='nope.pth'):
        OVSegInferencer(tiny['config'], str(tmp_path / 'nope.pth'))
    state = dict(tiny['state'])
    key = next(k for k in state if k.startswith('decode_head.'))
    del state[key]
    broken = str(tmp_path / 'broken.pth')
    torch.save({'state_dict': state}, broken)
    with pytest.raises(CheckpointMismatchError) as e:
        OVSegInferencer(tiny['config'], broken, device='cpu')
    assert 'broken.pth' in str(e.value) and key in str(e.value)


def test_registry_vocabulary_name_and_a_16_bit_test_pipeline(tiny, tmp_path):
    # ADE-847's test pipeline loads labels with LoadSegAnnotations16,
    # which raw images do not have: the inferencer leaves it out
    cfg = tiny_catseg_config(catseg_base_config(dataset='catseg_ade20k_847'))
    config = str(tmp_path / 'tiny_catseg_ade847.py')
    cfg.dump(config)
    inferencer = INFERENCERS.build(
        dict(
            type='OVSegInferencer',
            model=config,
            weights=tiny['checkpoint'],
            vocabulary='voc20',
            device='cpu'))
    assert isinstance(inferencer, OVSegInferencer)
    names = [str(t.__class__.__name__) for t in inferencer.pipeline.transforms]
    assert names[0] == 'InferencerLoader'
    assert not any('Annotation' in n for n in names)
    out = inferencer(str(tiny['dir'] / 'chelsea.png'))
    assert len(inferencer.model.dataset_meta['classes']) == 20
    assert 'cat' in inferencer.model.dataset_meta['classes']
    assert out['predictions'].max() < 20
    assert out['predictions'].shape == skimage.data.chelsea().shape[:2]


def test_2023_frozen_text_tower_is_read_from_its_file(tmp_path):
    # the 2023 text tower is a frozen part: not in the checkpoint, read
    # from `pretrained` before the strict load
    clip_file = str(tmp_path / 'clip.pt')
    torch.save(tiny_open_clip(tiny_clip_cfg(), seed=3).state_dict(), clip_file)
    cfg = tiny_catseg_config(
        catseg_base_config(model='catseg_openai-vitb16_2023'))
    cfg.model.text_encoder.pretrained = clip_file
    config = str(tmp_path / 'tiny_catseg_2023.py')
    cfg.dump(config)
    model = _build(cfg)
    state = model.state_dict()
    assert not any(k.startswith('text_encoder.text.') for k in state)
    torch.save({'state_dict': state}, tmp_path / 'catseg.pth')
    inferencer = OVSegInferencer(
        config,
        str(tmp_path / 'catseg.pth'),
        device='cpu',
        show_progress=False)
    text = inferencer.model.text_encoder.text.state_dict()
    for key, value in model.text_encoder.text.state_dict().items():
        torch.testing.assert_close(text[key], value, msg=key)
    out = inferencer(
        np.ascontiguousarray(skimage.data.coffee()[..., ::-1]),
        texts=['cup', 'saucer', 'table'],
        return_datasamples=True)
    assert out.seg_logits.data.shape[0] == 3
    assert out.pred_sem_seg.data.max() < 3
