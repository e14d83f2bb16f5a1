# Copyright (c) mmclipself contributors. All rights reserved.
"""OpenAI towers: split q/k/v inside, open_clip's packed layout outside."""
import torch
from mmengine.runner.checkpoint import load_state_dict as mmengine_load
from open_clip.transformer import QuickGELU, VisionTransformer

from mmclipself.models import CLIPSelfDistiller
from mmclipself.models.layers import SplitQKVAttention
from mmclipself.models.utils import tower_to_open_clip
from mmclipself.testing.towers import TINY_OPENAI, tiny_openai


def _open_clip_tower():
    """open_clip's own (packed nn.MultiheadAttention) tiny tower."""
    torch.manual_seed(0)
    spec = dict(TINY_OPENAI)
    tower = VisionTransformer(
        image_size=spec['image_size'],
        patch_size=spec['patch_size'],
        width=spec['width'],
        layers=spec['layers'],
        heads=spec['heads'],
        mlp_ratio=4.0,
        output_dim=spec['output_dim'],
        act_layer=QuickGELU)
    with torch.no_grad():
        for blk in tower.transformer.resblocks:
            blk.attn.in_proj_bias.normal_()
    return tower.eval()


def test_every_block_uses_split_attention():
    model = tiny_openai()
    for blk in model.blocks():
        assert isinstance(blk.attn, SplitQKVAttention)
    keys = list(model.state_dict())
    assert 'visual.transformer.resblocks.0.attn.q_proj.weight' in keys
    assert not any('in_proj' in k for k in keys)


def test_packed_open_clip_file_loads_strictly_and_exports_back(tmp_path):
    ref = _open_clip_tower()
    packed = {'visual.' + k: v for k, v in ref.state_dict().items()}
    assert 'visual.transformer.resblocks.0.attn.in_proj_weight' in packed
    path = tmp_path / 'open_clip.pt'
    torch.save(packed, path)
    model = tiny_openai(pretrained=str(path))
    model.init_weights()  # strict
    model.eval()
    x = torch.randn(2, 3, 32, 32)
    assert torch.allclose(model.forward_image(x), ref(x), atol=1e-5)
    # export: open_clip's keys, order and tensors, bit for bit
    out = tower_to_open_clip(model.state_dict())
    assert list(out) == list(packed)
    for k, v in packed.items():
        assert torch.equal(out[k], v), k
    # and open_clip's own module loads the export strictly
    again = _open_clip_tower()
    again.load_state_dict({
        k[len('visual.'):]: v
        for k, v in out.items()
    },
                          strict=True)


def test_old_checkpoints_with_packed_keys_load_strictly():
    # model checkpoints written before the split hold packed keys deep
    # inside (e.g. ``student.visual...``); torch's and MMEngine's loaders
    # both take them
    ref = _open_clip_tower()
    old = {'student.visual.' + k: v for k, v in ref.state_dict().items()}
    for load in (lambda m, s: m.load_state_dict(s, strict=True),
                 lambda m, s: mmengine_load(m, s, strict=True)):
        model = torch.nn.ModuleDict(dict(student=tiny_openai())).eval()
        load(model, old)
        x = torch.randn(1, 3, 32, 32)
        assert torch.allclose(
            model['student'].forward_image(x), ref(x), atol=1e-5)
        packed = old['student.visual.transformer.resblocks.1.attn.'
                     'in_proj_weight']
        attn = model['student'].blocks()[1].attn
        assert torch.equal(attn.v_proj.weight, packed[64:])


def test_distiller_freezes_the_last_blocks_q_and_k_of_openai_students():
    model = CLIPSelfDistiller(
        student=dict(type='OpenAICLIPViT', arch=TINY_OPENAI))
    last = model.student.blocks()[-1].attn
    assert not last.q_proj.weight.requires_grad
    assert not last.k_proj.bias.requires_grad
    assert last.v_proj.weight.requires_grad
    assert last.out_proj.weight.requires_grad
    assert model.student.blocks()[0].attn.q_proj.weight.requires_grad
