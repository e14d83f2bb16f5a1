# Copyright (c) mmclipself contributors. All rights reserved.
"""Shared pieces of the benchmark scripts in ``tools/analysis/``.

They measure and print; nothing here asserts a speed.
"""
import resource
import time
from typing import Callable, Tuple

import torch
import torch.nn.functional as F


def timed(step: Callable[[], None], warmup: int, iters: int,
          sync: Callable[[], None], on_cuda: bool) -> float:
    """Seconds per call of ``step`` after ``warmup`` calls.

    Args:
        step: One training or inference step.
        warmup: Untimed calls first (allocator, cuDNN autotuning).
        iters: Timed calls.
        sync: Waits for the device (``torch.cuda.synchronize`` or a no-op).
        on_cuda: Reset CUDA's peak-memory counter after the warm-up, so
            :func:`print_peak_memory` reports the timed steps.
    """
    for _ in range(warmup):
        step()
    sync()
    if on_cuda:
        torch.cuda.reset_peak_memory_stats()
    start = time.perf_counter()
    for _ in range(iters):
        step()
    sync()
    return (time.perf_counter() - start) / iters


def print_peak_memory(stage: str, on_cuda: bool) -> None:
    """Print CUDA's peak allocation, or the process's peak RSS on a CPU.

    The CPU number is all the process has used so far (the only memory
    figure measurable there), and the line says so.
    """
    if on_cuda:
        peak = torch.cuda.max_memory_allocated() / 2**30
        print(f'{stage} peak GPU memory: {peak:.2f} GiB')
    else:
        rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 2**20
        print(f'{stage} peak RSS (CPU; whole process so far): {rss:.2f} GiB')


def random_vocabulary(path: str,
                      num_classes: int,
                      dim: int,
                      background: bool = False) -> str:
    """Write a vocabulary file of random unit embeddings (seeded).

    Args:
        path: Output file.
        num_classes: Classes ``class_0 ... class_{n-1}``.
        dim: Embedding width (the CLIP's).
        background: Append a ``'background'`` entry (F-ViT's classifier).

    Returns:
        ``path``.
    """
    names = [f'class_{i}' for i in range(num_classes)]
    names += ['background'] if background else []
    g = torch.Generator().manual_seed(0)
    emb = F.normalize(torch.randn(len(names), dim, generator=g), dim=-1)
    torch.save(dict(class_names=names, embeddings=emb), path)
    return path


def random_test_batch(batch_size: int, size: Tuple[int, int],
                      sample_type: type) -> dict:
    """Random ``uint8`` images as a test pipeline packs them.

    Args:
        batch_size: Images.
        size: ``(h, w)`` of every image (no rescaling: scale factor 1).
        sample_type: The host's data sample (``SegDataSample``,
            ``DetDataSample``).
    """
    g = torch.Generator().manual_seed(1)
    meta = dict(img_shape=size, ori_shape=size, scale_factor=(1., 1.))
    inputs = [
        torch.randint(0, 256, (3, *size), generator=g).byte()
        for _ in range(batch_size)
    ]
    samples = [sample_type(metainfo=dict(meta)) for _ in range(batch_size)]
    return dict(inputs=inputs, data_samples=samples)
