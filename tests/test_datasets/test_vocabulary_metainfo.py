# Copyright (c) mmclipself contributors. All rights reserved.
import pytest
from mmseg.datasets import BaseSegDataset

from mmclipself.datasets import VocabularyMetainfo
from mmclipself.vocab import get_class_names


def test_classes_are_read_on_first_access_only():
    # defining the class reads nothing: an unknown key fails on access
    class Later(BaseSegDataset):
        METAINFO = VocabularyMetainfo('no-such-vocabulary')

    with pytest.raises(KeyError, match='no-such-vocabulary'):
        Later.METAINFO


def test_metainfo_is_a_fresh_dict_each_time():

    class Voc(BaseSegDataset):
        METAINFO = VocabularyMetainfo('voc20', palette=[[1, 2, 3]] * 20)

    meta = Voc.METAINFO
    assert meta['classes'] == get_class_names('voc20')
    meta['palette'][0][0] = 99
    meta['classes'] = ()
    assert Voc.METAINFO['palette'][0] == [1, 2, 3]
    assert Voc.METAINFO['classes'] == get_class_names('voc20')
