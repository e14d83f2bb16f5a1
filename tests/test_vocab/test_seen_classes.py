# Copyright (c) mmclipself contributors. All rights reserved.
"""Seen / unseen test classes (segmentation facts §1.4)."""
import pytest
import torch

from mmclipself.vocab import class_synonyms, get_class_names, seen_class_mask


def test_hand_made_case():
    test = ['Cat, kitty', 'dog', 'road, route', 'wall', 'Tree', 'window']
    train = [
        'kitty', 'wall-other-merged', 'tree-merged', 'road', 'window-blind'
    ]
    # COCO-panoptic names under the panoptic rule: wall, tree, window blind
    mask = seen_class_mask(test, train, train_rule='panoptic')
    assert mask.dtype == torch.bool and mask.shape == (6, )
    assert mask.tolist() == [True, False, True, True, True, False]
    # the release rule keeps the suffixes: wall and tree are unseen
    mask = seen_class_mask(test, train)
    assert mask.tolist() == [True, False, True, False, False, False]
    # a synonym of a training class counts (any synonym on either side)
    assert seen_class_mask(['edifice'],
                           ['building, edifice']).tolist() == [True]


def test_class_synonyms_are_cleaned():
    assert class_synonyms(' Road,  route ') == ['road', 'route']
    assert class_synonyms('sky-other-merged', 'panoptic') == ['sky']
    assert class_synonyms('door-stuff', 'panoptic') == ['door']
    assert class_synonyms('ping-pong_ball') == ['ping-pong ball']


def test_bad_input_is_named():
    with pytest.raises(ValueError, match='test class list is empty'):
        seen_class_mask([], ['cat'])
    with pytest.raises(ValueError, match='empty synonym'):
        seen_class_mask(['cat,,dog'], ['cat'])
    with pytest.raises(KeyError, match='unknown vocabulary'):
        seen_class_mask('ade150', 'coco_panoptic')
    with pytest.raises(ValueError, match='unknown name clean-up rule'):
        seen_class_mask(['cat'], ['cat'], test_rule='odise')


def test_ade150_against_coco_panoptic():
    # A key brings its names and its rule ('coco_panoptic': panoptic).
    # ODISE / FC-CLIP count 64 seen / 86 unseen with OpenSeg's synonym
    # lists, which add synonyms to the COCO names; with MMDetection's names
    # (ADE panoptic lists synonyms, COCO does not) we count 57 / 93, with
    # MMSegmentation's single ADE names 53 / 97.
    mask = seen_class_mask('ade20k_panoptic', 'coco_panoptic')
    counts = (int(mask.sum()), int((~mask).sum()))
    assert counts == (57, 93), f'seen/unseen ADE-150 (panoptic): {counts}'
    names = get_class_names('ade20k_panoptic')
    seen = {n for n, s in zip(names, mask.tolist()) if s}
    # COCO 'road', 'sky-other-merged', 'window-other', 'tv'; not 'animal'
    assert {'road, route', 'sky', 'window', 'tv', 'person'} <= seen
    assert 'animal' not in seen and 'stage' not in seen
    mask = seen_class_mask('ade20k', 'coco_panoptic')
    counts = (int(mask.sum()), int((~mask).sum()))
    assert counts == (53, 97), f'seen/unseen ADE-150 (semantic): {counts}'


def test_a_list_without_its_rule_takes_the_rule_of_the_vocabulary_it_is():
    # a vocabulary file without provenance gives only the names: COCO
    # panoptic's 'wall-other-merged' must still be 'wall'
    names = list(get_class_names('coco_panoptic'))
    by_key = seen_class_mask('ade20k_panoptic', 'coco_panoptic')
    by_list = seen_class_mask('ade20k_panoptic', names)
    assert by_list.tolist() == by_key.tolist()
    wall = list(get_class_names('ade20k_panoptic')).index('wall')
    assert by_list[wall]
    # an explicit rule still wins
    release = seen_class_mask('ade20k_panoptic', names, train_rule='release')
    assert int(release.sum()) < int(by_key.sum())
