# Copyright (c) mmclipself contributors. All rights reserved.
import pytest

from mmclipself.vocab import (SINGLE_TEMPLATE, VILD_TEMPLATES, build_prompts,
                              get_templates)


def test_prompts_follow_the_release_rules():
    assert len(VILD_TEMPLATES) == 63
    prompts = build_prompts('apple')
    assert len(prompts) == 63
    assert prompts[0] == 'There is an apple in the scene.'
    assert prompts[2] == 'This is a photo of an apple in the scene.'
    assert 'This is the toy apple.' in prompts
    assert build_prompts(
        'apple', this_is=False)[2] == ('a photo of an apple in the scene.')
    with pytest.raises(ValueError, match='empty class name'):
        build_prompts('__')
    # the name is cleaned with the given rule
    assert build_prompts('ping-pong_ball',
                         'single') == ['This is a photo of a ping-pong ball.']
    assert build_prompts(
        'ping-pong_ball', 'single',
        rule='panoptic') == ['This is a photo of a ping pong ball.']


def test_template_sets_by_name_or_list():
    assert get_templates('vild') == ('vild', VILD_TEMPLATES)
    assert get_templates('single') == ('single', SINGLE_TEMPLATE)
    assert get_templates(list(SINGLE_TEMPLATE)) == ('single', SINGLE_TEMPLATE)
    assert get_templates(['a {}.']) == ('custom', ('a {}.', ))
    with pytest.raises(ValueError, match='unknown template set'):
        get_templates('imagenet80')
    with pytest.raises(ValueError, match='no "{}"'):
        get_templates(['a photo.'])
    with pytest.raises(ValueError, match='empty'):
        get_templates([])
