# Copyright (c) mmclipself contributors. All rights reserved.
"""ADE-150's three class orders (segmentation facts §4)."""
import ast
import os.path as osp

import mmdet
import open_clip
import pytest
import torch

from mmclipself.testing.text import tiny_clip_cfg, tiny_open_clip
from mmclipself.vocab import (check_class_order, embed_class_names,
                              get_class_names)


def _converter_order():
    """The semantic-order class list of MMDetection's ADE converter."""
    path = osp.join(
        osp.dirname(mmdet.__file__), '.mim', 'tools', 'dataset_converters',
        'ade20k2coco.py')
    for node in ast.parse(open(path).read()).body:
        if isinstance(node, ast.Assign) and getattr(
                node.targets[0], 'id', None) == 'ORIGINAL_CATEGORIES':
            return tuple(ast.literal_eval(node.value))
    raise AssertionError(f'no ORIGINAL_CATEGORIES in {path}')


def test_three_orders():
    semantic = get_class_names('ade20k')
    panoptic = get_class_names('ade20k_panoptic')
    instance = get_class_names('ade20k_instance')
    assert (len(semantic), len(panoptic), len(instance)) == (150, 150, 100)
    assert semantic[:3] == ('wall', 'building', 'sky')
    assert panoptic[:3] == ('bed', 'window', 'cabinet')  # things first
    assert panoptic[100:102] == ('wall', 'building')  # then stuff
    # instance: the panoptic things under the semantic names
    assert instance[:3] == ('bed', 'windowpane', 'cabinet')
    assert set(instance) <= {n.strip() for n in semantic}
    # the converter lists the panoptic names in the semantic order
    converter = _converter_order()
    assert set(converter) == set(panoptic) and converter != panoptic
    assert [n.split(',')[0] for n in converter[:3]] == list(semantic[:3])


def test_same_names_other_order_is_another_vocabulary():
    panoptic = list(get_class_names('ade20k_panoptic'))
    converter = list(_converter_order())
    clip = tiny_open_clip(tiny_clip_cfg(), seed=0)
    tok = open_clip.get_tokenizer('')  # open_clip's default BPE
    a = embed_class_names(clip, panoptic, tok, 'single')
    b = embed_class_names(clip, converter, tok, 'single')
    assert a.class_names != b.class_names
    assert not torch.equal(a.embeddings, b.embeddings)
    # the same rows, permuted: labels would index the wrong classes
    perm = [converter.index(n) for n in panoptic]
    torch.testing.assert_close(a.embeddings, b.embeddings[perm])
    # the run-time check names the first mismatch
    with pytest.raises(ValueError, match=r"index 0: expected 'bed'"):
        check_class_order(panoptic, b.class_names, 'test_dataloader.dataset',
                          'converter order')
    swapped = list(panoptic)
    swapped[99], swapped[100] = swapped[100], swapped[99]  # last thing
    with pytest.raises(ValueError, match='first mismatch at index 99'):
        check_class_order(panoptic, swapped, 'test_dataloader.dataset',
                          'ade20k_panoptic.pt')
    check_class_order(panoptic, a.class_names, 'x', 'y')
