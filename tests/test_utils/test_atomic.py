# Copyright (c) mmclipself contributors. All rights reserved.
import os

import pytest
import torch

from mmclipself.utils.atomic import atomic_torch_save


class _Unpicklable:

    def __reduce__(self):
        raise RuntimeError('cannot pickle this')


def test_a_failed_save_leaves_the_old_file_and_no_temporary(tmp_path):
    path = tmp_path / 'sub' / 'x.pt'
    atomic_torch_save({'a': torch.ones(2)}, str(path))  # creates sub/
    assert torch.equal(torch.load(path)['a'], torch.ones(2))
    with pytest.raises(RuntimeError, match='cannot pickle'):
        atomic_torch_save({'a': torch.zeros(2), 'b': _Unpicklable()},
                          str(path))
    assert torch.equal(torch.load(path)['a'], torch.ones(2))
    assert os.listdir(path.parent) == ['x.pt']
    atomic_torch_save({'a': torch.zeros(2)}, str(path))
    assert torch.equal(torch.load(path)['a'], torch.zeros(2))
