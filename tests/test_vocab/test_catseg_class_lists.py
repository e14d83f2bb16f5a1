# Copyright (c) mmclipself contributors. All rights reserved.
"""The A-847 and PC-459 class lists and the A-847 label table (packaged)."""
import pytest

from mmclipself.vocab import get_class_names, list_vocabularies, split_synonyms
from mmclipself.vocab.class_names import read_packaged_list


def test_ade847_names():
    names = get_class_names('ade847')
    assert 'ade847' in list_vocabularies()
    assert len(names) == len(set(names)) == 847
    # Cat-Seg's frequency order, synonyms kept
    assert names[:3] == ('wall', 'building, edifice', 'sky')
    assert names[-1] == 'adding machine, totalizer, totaliser'
    assert split_synonyms(names[1]) == ['building', 'edifice']
    assert all(split_synonyms(n) for n in names)
    assert not any(n.startswith('#') for n in names)  # header skipped


def test_pc459_names():
    names = get_class_names('pc459')
    assert len(names) == len(set(names)) == 459
    assert (names[0], names[430], names[-1]) == ('accordion', 'unknown',
                                                 'wool')
    assert not any(n.startswith('#') for n in names)


def test_ade847_label_table_pairs_values_with_names():
    values = [int(v) for v in read_packaged_list('ade847_ade20k_ids')]
    names = get_class_names('ade847')
    assert len(values) == len(set(values)) == 847
    assert all(0 < v < 26 * 256 for v in values)  # (R // 10) * 256 + G
    # ADE20K-full values below 3100 follow the alphabetical order of the
    # object names: a table shifted against the names breaks the order
    pairs = sorted((v, n) for v, n in zip(values, names) if v < 3100)
    assert len(pairs) == 827
    ordered = [n for _, n in pairs]
    assert ordered == sorted(ordered)
    shifted = sorted((v, n) for v, n in zip(values[1:], names) if v < 3100)
    assert [n for _, n in shifted] != sorted(n for _, n in shifted)


def test_unknown_packaged_list():
    with pytest.raises(FileNotFoundError, match='nope.txt'):
        read_packaged_list('nope')
