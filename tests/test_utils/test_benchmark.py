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
