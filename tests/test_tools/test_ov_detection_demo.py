# Copyright (c) mmclipself contributors. All rights reserved.
"""demo/ov_detection_demo.py on a real photo with a tiny F-ViT."""
import importlib.util
import json
import os
import os.path as osp
import subprocess
import sys

import mmcv
import open_clip
import pytest
import skimage.data
import torch

from mmclipself.registry import MODELS
from mmclipself.testing.fvit import (EMBED_DIM, tiny_fvit_config, write_tower,
                                     write_vocabulary)
from mmclipself.testing.text import tiny_clip_cfg

REPO = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))
DEMO = osp.join(REPO, 'demo', 'ov_detection_demo.py')
TEXT_MODEL = 'TinyCLIP-mmclipself-demo'
# an open_clip CLIP whose embeddings are as wide as the tiny detector's
TINY_CLIP = tiny_clip_cfg()
assert TINY_CLIP['embed_dim'] == EMBED_DIM


@pytest.fixture(scope='module')
def tiny(tmp_path_factory):
    d = tmp_path_factory.mktemp('ov_demo')
    vocab = write_vocabulary(d / 'vocab.pt', ['person', 'cat', 'cup'])
    cfg = tiny_fvit_config('configs/fvit/fvit_eva-vitb16_ov-coco.py',
                           write_tower(d / 'tower.pth'), vocab)
    cfg.dump(str(d / 'tiny_fvit.py'))
    torch.manual_seed(0)
    model = MODELS.build(cfg.model)
    model.init_weights()
    torch.save({'state_dict': model.state_dict()}, d / 'fvit.pth')
    text_cfg = d / f'{TEXT_MODEL}.json'
    text_cfg.write_text(json.dumps(TINY_CLIP))
    open_clip.add_model_config(str(text_cfg))
    torch.save(open_clip.create_model(TEXT_MODEL).state_dict(), d / 'clip.pt')
    mmcv.imwrite(skimage.data.chelsea()[..., ::-1], str(d / 'chelsea.jpg'))
    return d


def _demo_main(argv):
    spec = importlib.util.spec_from_file_location('ov_detection_demo', DEMO)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    module.main(argv)


@pytest.mark.slow  # the demo in a subprocess
def test_demo_draws_free_text_classes_on_a_photo(tiny):
    out = tiny / 'out' / 'result.jpg'
    res = subprocess.run([
        sys.executable, DEMO,
        str(tiny / 'chelsea.jpg'),
        str(tiny / 'tiny_fvit.py'), '--checkpoint',
        str(tiny / 'fvit.pth'), '--classes', 'cat, coffee cup,person',
        '--text-model', TEXT_MODEL, '--text-model-config',
        str(tiny / f'{TEXT_MODEL}.json'), '--text-pretrained',
        str(tiny / 'clip.pt'), '--score-thr', '0.05', '--out-file',
        str(out), '--device', 'cpu'
    ],
                         capture_output=True,
                         text=True,
                         timeout=300,
                         env=dict(
                             os.environ, MMCLIPSELF_CACHE=str(tiny / 'cache')))
    assert res.returncode == 0, res.stderr[-3000:]
    assert 'vocabulary: 3 classes' in res.stdout
    assert f'saved {out}' in res.stdout
    drawn = mmcv.imread(str(out))
    assert drawn is not None
    assert drawn.shape == skimage.data.chelsea().shape
    detections = [
        line for line in res.stdout.splitlines()
        if line.split(' ')[0] in ('cat', 'coffee', 'person')
    ]
    assert detections, res.stdout


@pytest.mark.parametrize('make, message', [
    (None, 'image not found'),
    ('', 'image file is empty'),
    ('not a jpeg', 'cannot decode image'),
])
def test_demo_names_a_bad_image(tiny, make, message):
    image = tiny / f'bad_{len(make) if make is not None else "none"}.jpg'
    if make is not None:
        image.write_text(make)
    with pytest.raises(SystemExit) as e:
        _demo_main([str(image), str(tiny / 'tiny_fvit.py')])
    assert message in str(e.value) and str(image) in str(e.value)


def test_demo_rejects_an_empty_class_list_and_a_missing_checkpoint(tiny):
    photo, config = str(tiny / 'chelsea.jpg'), str(tiny / 'tiny_fvit.py')
    with pytest.raises(SystemExit, match='class list is empty'):
        _demo_main([photo, config, '--classes', ' , '])
    with pytest.raises(SystemExit, match='checkpoint not found: .*nope.pth'):
        _demo_main([photo, config, '--checkpoint', str(tiny / 'nope.pth')])


def test_demo_has_no_default_text_model(tiny):
    # the tiny tower (a dict arch) names no open_clip model: the demo asks
    # for one instead of encoding with an unrelated default CLIP
    photo, config = str(tiny / 'chelsea.jpg'), str(tiny / 'tiny_fvit.py')
    with pytest.raises(SystemExit, match='pass text_model='):
        _demo_main([photo, config, '--classes', 'cat'])


def test_make_demo_runs_the_distillation_demo_of_demo():
    with open(osp.join(REPO, 'Makefile')) as f:
        lines = f.read().splitlines()
    recipe = lines[lines.index('demo: setup') + 1].split()
    assert recipe[-1] == 'demo/clipself_distill_demo.py'
    assert osp.isfile(osp.join(REPO, recipe[-1]))
    assert not osp.exists(osp.join(REPO, 'tools', 'demo.py'))
