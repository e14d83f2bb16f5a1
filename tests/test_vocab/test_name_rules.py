# Copyright (c) mmclipself contributors. All rights reserved.
import pytest

from mmclipself.vocab import clean_name, default_rule, get_class_names

#: LVIS v1 names with hyphens (taken from mmdet's LVISV1Dataset metainfo)
HYPHENATED = {
    'bow-tie': 'bow-tie',
    'flip-flop_(sandal)': 'flip-flop (sandal)',
    'ping-pong_ball': 'ping-pong ball',
}


def test_release_rule_keeps_lvis_hyphens():
    lvis = get_class_names('lvis')
    for raw, cleaned in HYPHENATED.items():
        assert raw in lvis
        # release: only "_" -> " ", "/" -> " or ", lower case
        assert clean_name(raw) == cleaned
        assert clean_name(raw, 'release') == cleaned
    hyphenated = [n for n in lvis if '-' in n]
    assert len(hyphenated) >= 9
    for name in hyphenated:
        assert clean_name(name) == name.replace('_', ' ').lower()
    assert clean_name('aerosol_can') == 'aerosol can'
    assert clean_name('Bowl/Basin') == 'bowl or basin'
    assert clean_name('wall-other-merged') == 'wall-other-merged'


def test_panoptic_rule_rewrites_suffixes_and_hyphens():
    assert clean_name('wall-other-merged', 'panoptic') == 'wall'
    assert clean_name('playingfield', 'panoptic') == 'playingfield'
    assert clean_name('bow-tie', 'panoptic') == 'bow tie'
    assert clean_name('flip-flop_(sandal)', 'panoptic') == 'flip flop (sandal)'
    panoptic = get_class_names('coco_panoptic')
    cleaned = [clean_name(n, 'panoptic') for n in panoptic]
    assert not any('-' in n for n in cleaned)
    assert 'tree' in cleaned and 'tree-merged' in panoptic


def test_the_rule_is_chosen_per_vocabulary():
    assert default_rule('coco_panoptic') == 'panoptic'
    for key in ('lvis', 'coco65', 'objects365', 'ade20k', None):
        assert default_rule(key) == 'release'
    with pytest.raises(ValueError, match="unknown name clean-up rule 'x'"):
        clean_name('cat', 'x')
