# Copyright (c) mmclipself contributors. All rights reserved.
import pytest

from mmclipself.vocab import (COCO_BASE_48, COCO_NOVEL_17, get_class_names,
                              read_class_file, split_synonyms)


def test_vocabularies():
    coco65 = get_class_names('coco65')
    assert len(coco65) == 65 and coco65[:3] == ('person', 'bicycle', 'car')
    assert set(get_class_names('coco48')) | set(
        get_class_names('coco17')) == set(coco65)
    assert len(get_class_names('lvis')) == 1203
    assert len(get_class_names('coco_panoptic')) == 133
    assert len(get_class_names('ade20k')) == 150
    with pytest.raises(KeyError, match='coco65'):
        get_class_names('coco66')


def test_ov_coco_split_is_a_partition_of_coco_classes():
    coco = get_class_names('coco')
    assert len(COCO_BASE_48) == 48 and len(COCO_NOVEL_17) == 17
    assert not set(COCO_BASE_48) & set(COCO_NOVEL_17)
    # the 65 names keep COCO's order
    assert list(get_class_names('coco65')) == [
        c for c in coco if c in set(COCO_BASE_48) | set(COCO_NOVEL_17)
    ]


def test_class_file_one_class_per_line_with_synonyms(tmp_path):
    path = tmp_path / 'classes.txt'
    path.write_text('cat\n\n  building, edifice \ncoffee cup\n')
    assert read_class_file(
        str(path)) == ['cat', 'building, edifice', 'coffee cup']
    assert split_synonyms('building, edifice') == ['building', 'edifice']
    assert split_synonyms('cat') == ['cat']


def test_class_file_errors_name_the_file(tmp_path):
    with pytest.raises(FileNotFoundError, match='nope.txt'):
        read_class_file(str(tmp_path / 'nope.txt'))
    empty = tmp_path / 'empty.txt'
    empty.write_text('\n \n')
    with pytest.raises(ValueError, match='empty.txt: the vocabulary is empty'):
        read_class_file(str(empty))
    dup = tmp_path / 'dup.txt'
    dup.write_text('cat\ndog\ncat\n')
    with pytest.raises(ValueError, match=r"dup.txt: duplicate.*\['cat'\]"):
        read_class_file(str(dup))
    bad = tmp_path / 'bad.txt'
    bad.write_text('cat\nbuilding,, edifice\n')
    with pytest.raises(ValueError, match='bad.txt:2: .*empty synonym'):
        read_class_file(str(bad))
