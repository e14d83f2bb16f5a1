# Copyright (c) mmclipself contributors. All rights reserved.
"""Class lists of Cat-Seg's VOC-20, VOC-20b and COCO-Stuff (facts §2.1)."""
from mmclipself.vocab import get_class_names, list_vocabularies

# Cat-Seg datasets/voc20b.json after the 20 VOC classes, as a set (the
# release's order differs from ours)
RELEASE_VOC20B_EXTRA = {
    'bag', 'bed', 'bench', 'book', 'building', 'cabinet', 'ceiling', 'cloth',
    'computer', 'cup', 'door', 'fence', 'floor', 'flower', 'food', 'grass',
    'ground', 'keyboard', 'light', 'mountain', 'mouse', 'curtain', 'platform',
    'sign', 'plate', 'road', 'rock', 'shelves', 'sidewalk', 'sky', 'snow',
    'bedclothes', 'track', 'tree', 'truck', 'wall', 'water', 'window', 'wood'
}
RELEASE_VOC20 = ('aeroplane', 'bicycle', 'bird', 'boat', 'bottle', 'bus',
                 'car', 'cat', 'chair', 'cow', 'diningtable', 'dog', 'horse',
                 'motorbike', 'person', 'pottedplant', 'sheep', 'sofa',
                 'train', 'tvmonitor')


def test_voc20_and_voc20b():
    assert {'voc20', 'voc20b', 'coco_stuff'} <= set(list_vocabularies())
    assert get_class_names('voc20') == RELEASE_VOC20
    voc20b = get_class_names('voc20b')
    assert len(voc20b) == 59 and len(set(voc20b)) == 59
    assert voc20b[:20] == RELEASE_VOC20
    assert set(voc20b[20:]) == RELEASE_VOC20B_EXTRA


def test_coco_stuff_is_mmseg_order():
    from mmseg.datasets import COCOStuffDataset
    names = get_class_names('coco_stuff')
    assert names == tuple(COCOStuffDataset.METAINFO['classes'])
    assert len(names) == 171 and names[:2] == ('person', 'bicycle')
