# Copyright (c) mmclipself contributors. All rights reserved.
"""Trainability by parameter-name pattern; q/v-only training (Cat-Seg)."""
import re

import pytest
import torch

from mmclipself.models.utils import set_trainable
from mmclipself.testing.towers import tiny_eva, tiny_openai

QV = {
    'openai': ('visual.transformer.resblocks.*.attn.q_proj.weight',
               'visual.transformer.resblocks.*.attn.v_proj.weight'),
    'eva02': ('trunk.blocks.*.attn.[qv]_proj.weight', ),
}
TOWERS = {'openai': tiny_openai, 'eva02': tiny_eva}
#: what must move: q and v weights of every block, nothing else
EXPECTED = re.compile(r'.*\.(\d+)\.attn\.[qv]_proj\.weight')


@pytest.mark.parametrize('name', TOWERS)
def test_only_q_and_v_move_after_an_adamw_step(name):
    torch.manual_seed(0)
    model = TOWERS[name](out_type='image', train_patterns=QV[name])
    model.train()
    trainable = {n for n, p in model.named_parameters() if p.requires_grad}
    assert trainable == {
        n
        for n, _ in model.named_parameters() if EXPECTED.fullmatch(n)
    }
    assert len(trainable) == 2 * model.num_layers
    assert model.trainable_block_indices == tuple(range(model.num_layers))
    before = {k: v.clone() for k, v in model.state_dict().items()}
    # every parameter is handed to the optimizer; weight decay would move
    # a frozen one if it were stepped
    optim = torch.optim.AdamW(model.parameters(), lr=1e-2, weight_decay=0.1)
    x = torch.randn(2, 3, 32, 32)
    model(x).pow(2).sum().backward()
    optim.step()
    moved = {
        k
        for k, v in model.state_dict().items()
        if not torch.equal(v, before[k])
    }
    assert moved == trainable
    for k, v in model.state_dict().items():  # parameters and buffers
        if k not in trainable:
            assert torch.equal(v, before[k]), k


def test_patterns_may_name_non_block_parameters():
    # Cat-Seg 2023 also trains the position embedding
    model = tiny_openai(
        train_patterns=['visual.positional_embedding', '*.resblocks.2.attn.*'])
    trainable = [n for n, p in model.named_parameters() if p.requires_grad]
    assert trainable[0] == 'visual.positional_embedding'
    assert all('resblocks.2.attn.' in n for n in trainable[1:])
    assert len(trainable) == 1 + 8  # q/k/v/out weights and biases
    assert model.trainable_block_indices == (2, )
    only_pos = tiny_openai(train_patterns=['visual.positional_embedding'])
    assert only_pos.trainable_block_indices == ()
    assert only_pos.train().training  # it trains something
    frozen = tiny_openai(train_patterns=[])
    assert not any(p.requires_grad for p in frozen.parameters())
    assert not frozen.train().training  # a fixed encoder stays in eval


def test_patterns_survive_init_weights(tmp_path):
    src = tiny_eva()
    path = tmp_path / 'w.pt'
    torch.save(
        {
            'visual.trunk.' + k: v
            for k, v in src.trunk.state_dict().items()
        }, path)
    model = tiny_eva(pretrained=str(path), train_patterns=QV['eva02'])
    model.init_weights()
    assert sum(p.requires_grad for p in model.parameters()) == 6


def test_pattern_errors_are_clear():
    with pytest.raises(ValueError, match=r"\['\*\.atn\.q_proj\.\*'\]"):
        tiny_openai(train_patterns=['*.attn.v_proj.*', '*.atn.q_proj.*'])
    with pytest.raises(ValueError, match='not both'):
        tiny_eva(train_blocks=1, train_patterns=['*'])


def test_set_trainable_globs_and_default():
    model = torch.nn.Sequential(
        torch.nn.Linear(2, 2), torch.nn.Sequential(torch.nn.Linear(2, 2)))
    # '*' crosses dots; [..] is a set; the rest stays frozen
    assert set_trainable(model, '1.*') == ['1.0.weight', '1.0.bias']
    assert not model[0].weight.requires_grad
    assert set_trainable(
        model, ['?.weight', '*.[b]ias']) == ['0.weight', '0.bias', '1.0.bias']
    # default=True: the patterns name what is frozen
    assert set_trainable(
        model, '*weight', default=True) == ['0.bias', '1.0.bias']
    with pytest.raises(ValueError, match=r"Sequential: the patterns \['x'\]"):
        set_trainable(model, ['x', '0.*'])
