# Copyright (c) mmclipself contributors. All rights reserved.
import os.path as osp
import shutil
import subprocess
import sys

import pytest
import torch
from PIL import Image

from mmclipself.utils.kmeans import spherical_kmeans

REPO = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))


def test_recovers_well_separated_directions():
    torch.manual_seed(0)
    dirs = torch.eye(3, 8)
    labels_true = torch.arange(3).repeat_interleave(20)
    feats = dirs[labels_true] * torch.rand(60, 1).add(0.5) + \
        0.05 * torch.randn(60, 8)
    labels, centres = spherical_kmeans(feats, 3)
    # same partition up to a permutation of the cluster ids
    for c in range(3):
        assert len(set(labels[labels_true == c].tolist())) == 1
    assert len(set(labels.tolist())) == 3
    assert torch.allclose(centres.norm(dim=1), torch.ones(3), atol=1e-5)
    again, _ = spherical_kmeans(feats, 3)
    assert torch.equal(labels, again)  # deterministic
    with pytest.raises(ValueError, match='k must be'):
        spherical_kmeans(feats, 61)


@pytest.mark.slow  # the tool in a subprocess
def test_visualisation_tool_writes_side_by_side_pngs(tmp_path):
    import skimage.data
    src = tmp_path / 'photos'
    src.mkdir()
    for n in ('chelsea.png', 'rocket.jpg'):
        shutil.copy(osp.join(skimage.data.data_dir, n), src / n)
    res = subprocess.run([
        sys.executable,
        osp.join(REPO, 'tools', 'analysis', 'visualize_kmeans.py'),
        str(src),
        str(tmp_path / 'out'), '--arch', 'vit-b16', '--size', '224', '--k', '4'
    ],
                         capture_output=True,
                         text=True,
                         timeout=300)
    assert res.returncode == 0, res.stderr[-2000:]
    out = Image.open(tmp_path / 'out' / 'chelsea_kmeans.png')
    orig = Image.open(src / 'chelsea.png')
    assert out.size == (orig.size[0] * 2, orig.size[1])
    assert (tmp_path / 'out' / 'rocket_kmeans.png').is_file()
