# Copyright (c) mmclipself contributors. All rights reserved.
import pytest
import torch

from mmclipself.models import EVA02CLIPViT, OpenAICLIPViT
from mmclipself.testing.towers import TINY_EVA, tiny_eva, tiny_openai
from mmclipself.vocab import (Vocabulary, check_text_matches_image,
                              text_family, text_model_for_tower)


def _vocab(model, source='vocab.pt'):
    return Vocabulary(['cat'],
                      torch.ones(1, 4),
                      provenance=dict(model=model),
                      source=source)


@pytest.mark.parametrize('cls,arch,name', [
    (EVA02CLIPViT, 'eva02-b16', 'EVA02-B-16'),
    (EVA02CLIPViT, 'eva02-l14-336', 'EVA02-L-14-336'),
    (OpenAICLIPViT, 'vit-b16', 'ViT-B-16-quickgelu'),
    (OpenAICLIPViT, 'vit-l14', 'ViT-L-14-quickgelu'),
    (OpenAICLIPViT, 'vit-l14-336', 'ViT-L-14-336-quickgelu'),
])
def test_text_model_of_named_towers(cls, arch, name):
    with torch.device('meta'):  # full size, no memory
        tower = cls(arch=arch)
    assert text_model_for_tower(tower) == name
    cfg = dict(type=f'mmclipself.{cls.__name__}', arch=arch)
    assert text_model_for_tower(cfg) == name
    # the F-ViT backbone holds the tower as `clip`
    assert text_model_for_tower(dict(type='CLIPViTPyramid', clip=cfg)) == name


def test_unknown_towers_have_no_text_model():
    assert text_model_for_tower(tiny_eva()) is None  # dict arch
    assert text_model_for_tower(tiny_openai()) is None
    assert text_model_for_tower(dict(type='EVA02CLIPViT',
                                     arch=TINY_EVA)) is None
    assert text_model_for_tower(dict(type='ResNet', depth=50)) is None
    assert text_model_for_tower(None) is None
    # a config without arch uses the tower's default
    assert text_model_for_tower(dict(type='EVA02CLIPViT')) == 'EVA02-B-16'


def test_families():
    assert text_family('ViT-B-16') == text_family('ViT-B-16-quickgelu')
    assert text_family('ViT-B/16') == text_family('vit-b-16')
    assert text_family('EVA02-B-16') != text_family('ViT-B-16')
    assert text_family('ViT-L-14') != text_family('ViT-L-14-336')


def test_mismatched_text_tower_is_an_error():
    openai_b16 = dict(type='OpenAICLIPViT', arch='vit-b16')
    eva_b16 = dict(type='EVA02CLIPViT', arch='eva02-b16')
    # both embed to 512-d: only the names tell them apart
    with pytest.raises(ValueError) as e:
        check_text_matches_image(
            _vocab('EVA02-B-16'), openai_b16, 'roi_head.bbox_head')
    msg = str(e.value)
    assert msg.startswith('roi_head.bbox_head: ')
    assert 'vocab.pt' in msg and 'EVA02-B-16' in msg
    assert '--model ViT-B-16-quickgelu' in msg
    assert check_text_matches_image(_vocab('EVA02-B-16'), eva_b16)
    # quickgelu or not: the same weights
    assert check_text_matches_image(_vocab('ViT-B-16'), openai_b16)
    assert check_text_matches_image('ViT-B-16', 'ViT-B-16-quickgelu')
    with pytest.raises(ValueError, match='ViT-L-14'):
        check_text_matches_image(dict(model='ViT-L-14'), openai_b16)
    # unknown on either side: nothing to check
    assert not check_text_matches_image(_vocab(None), openai_b16)
    assert not check_text_matches_image(
        _vocab('EVA02-B-16'), dict(type='EVA02CLIPViT', arch=TINY_EVA))


def test_other_open_clip_weights_of_the_same_model_are_an_error():
    # two open_clip tags of one architecture are two different CLIPs
    openai = 'open_clip://ViT-B-16-quickgelu/openai'
    metaclip = 'open_clip://ViT-B-16-quickgelu/metaclip_fullcc'
    tower = dict(type='OpenAICLIPViT', arch='vit-b16', pretrained=openai)
    vocab = Vocabulary(['cat'],
                       torch.ones(1, 4),
                       provenance=dict(
                           model='ViT-B-16-quickgelu', pretrained=metaclip),
                       source='v.pt')
    with pytest.raises(ValueError, match="'metaclip_fullcc'.*'openai'"):
        check_text_matches_image(vocab, tower, 'bbox_head')
    # through the F-ViT backbone's `clip` and with the same tag: fine
    assert check_text_matches_image(
        dict(vocab.provenance, pretrained=openai), dict(clip=tower))
    # a local file on either side (e.g. a CLIPSelf-refined image tower):
    # only the architecture can be compared
    assert check_text_matches_image(
        vocab, dict(tower, pretrained='checkpoints/refined.pth'))
