# Copyright (c) mmclipself contributors. All rights reserved.
"""Bad inputs fail through the user's entry points with one clear line.

``tools/train.py`` on the tiny demo config with images that cannot be read,
and ``tools/generate_text_embeddings.py`` with an empty or repeating class
list: a non-zero exit, a message naming the file, nothing written.
"""
import os.path as osp
import subprocess
import sys
import textwrap

import pytest

from mmclipself.testing.runs import REPO, train_in_subprocess

# runs the tools in subprocesses
pytestmark = pytest.mark.slow

CONFIG = textwrap.dedent('''
    _base_ = ['{repo}/configs/clipself/clipself_tiny-eva02_demo.py']
    train_dataloader = dict(dataset=dict(
        ann_file='{train}', data_prefix=dict(img_path='{root}')))
    val_dataloader = dict(num_workers=0, persistent_workers=False,
                          dataset=dict(ann_file='{val}',
                                       data_prefix=dict(img_path='{root}')))
    test_dataloader = val_dataloader
    model = dict(data_preprocessor=dict(student_size=128))
    train_cfg = dict(max_iters=1, val_interval=1, val_begin=1)
    param_scheduler = []
''')


def _setup(tmp_path, train, val):
    import skimage.data
    root = tmp_path / 'imgs'
    root.mkdir()
    for name in ('astronaut.png', 'coffee.png'):
        (root / name).write_bytes(
            open(osp.join(skimage.data.data_dir, name), 'rb').read())
    (root / 'broken.png').write_bytes(b'\x89PNG truncated')
    (tmp_path / 'train.txt').write_text('\n'.join(train))
    (tmp_path / 'val.txt').write_text('\n'.join(val))
    (tmp_path / 'cfg.py').write_text(
        CONFIG.format(
            repo=REPO,
            train=tmp_path / 'train.txt',
            val=tmp_path / 'val.txt',
            root=root))


def _checkpoints(work_dir):
    return sorted(p.name for p in work_dir.rglob('*.pth'))


def test_train_on_unreadable_images_fails_at_start(tmp_path):
    _setup(tmp_path, ['broken.png', 'gone.png'], ['astronaut.png'])
    res = train_in_subprocess(tmp_path / 'cfg.py', tmp_path / 'work')
    out = res.stdout + res.stderr
    assert res.returncode != 0
    line = (f"all 2 images in '{tmp_path}/train.txt' are unreadable "
            f"(first: '{tmp_path}/imgs/broken.png')")
    assert line in out, out[-3000:]
    # one line, not a warning per retry; nothing trained, nothing saved
    assert 'skipped unreadable image' not in out
    assert 'Iter(train)' not in out
    assert _checkpoints(tmp_path / 'work') == []


def test_unreadable_validation_image_is_named(tmp_path):
    _setup(tmp_path, ['astronaut.png', 'coffee.png'],
           ['coffee.png', 'broken.png'])
    res = train_in_subprocess(tmp_path / 'cfg.py', tmp_path / 'work')
    out = res.stdout + res.stderr
    assert res.returncode != 0
    assert (f"validation/test image '{tmp_path}/imgs/broken.png' of "
            f"'{tmp_path}/val.txt' could not be read") in out, out[-3000:]


def test_missing_validation_image_fails_before_training(tmp_path):
    _setup(tmp_path, ['astronaut.png', 'coffee.png'],
           ['coffee.png', 'gone.png'])
    res = train_in_subprocess(tmp_path / 'cfg.py', tmp_path / 'work')
    out = res.stdout + res.stderr
    assert res.returncode != 0
    assert (f"1 of the 2 images of '{tmp_path}/val.txt' do not exist "
            f"(first: '{tmp_path}/imgs/gone.png')") in out, out[-3000:]
    assert 'Iter(train)' not in out
    assert _checkpoints(tmp_path / 'work') == []


@pytest.mark.parametrize('content, message', [
    ('\n\n', 'the vocabulary is empty'),
    ('cat\ndog\ncat\n', "duplicate class names ['cat']"),
])
def test_text_embeddings_tool_rejects_bad_class_list(tmp_path, content,
                                                     message):
    (tmp_path / 'classes.txt').write_text(content)
    out = tmp_path / 'emb.pt'
    res = subprocess.run([
        sys.executable,
        osp.join(REPO, 'tools', 'generate_text_embeddings.py'), '--classes',
        str(tmp_path / 'classes.txt'), '--model', 'ViT-B-16', '--pretrained',
        str(tmp_path / 'none.pt'), '--out',
        str(out)
    ],
                         capture_output=True,
                         text=True,
                         timeout=300)
    assert res.returncode != 0
    # one line naming the file, no traceback, no file written
    assert res.stderr.strip() == \
        f'error: {tmp_path}/classes.txt: {message}', res.stderr[-2000:]
    assert not out.exists()
