# Copyright (c) mmclipself contributors. All rights reserved.
"""The benchmark scripts' shared helpers."""
import torch

from mmclipself.utils.benchmark import (print_peak_memory, random_vocabulary,
                                        timed)
from mmclipself.vocab import load_vocabulary


def test_timed_runs_warmup_then_the_timed_calls():
    calls, syncs = [], []
    seconds = timed(
        lambda: calls.append(1), 2, 3, lambda: syncs.append(1), on_cuda=False)
    assert len(calls) == 5 and len(syncs) == 2 and seconds >= 0


def test_peak_memory_line_says_what_it_measures(capsys):
    print_peak_memory('test', on_cuda=False)
    assert 'test peak RSS (CPU; whole process so far):' in \
        capsys.readouterr().out


def test_random_vocabulary_loads(tmp_path):
    path = random_vocabulary(str(tmp_path / 'v.pt'), 3, 8, background=True)
    vocab = load_vocabulary(path)
    assert list(
        vocab.class_names) == ['class_0', 'class_1', 'class_2', 'background']
    assert torch.allclose(vocab.embeddings.norm(dim=-1), torch.ones(4))
    again = random_vocabulary(str(tmp_path / 'w.pt'), 3, 8)
    assert load_vocabulary(again).num_classes == 3


def test_random_test_batch_packs_samples_of_the_host():
    from mmseg.structures import SegDataSample

    from mmclipself.utils.benchmark import random_test_batch
    batch = random_test_batch(2, (8, 12), SegDataSample)
    assert [x.shape for x in batch['inputs']] == [(3, 8, 12)] * 2
    assert batch['inputs'][0].dtype == torch.uint8
    sample = batch['data_samples'][1]
    assert isinstance(sample, SegDataSample)
    assert sample.img_shape == (8, 12) and sample.scale_factor == (1., 1.)
