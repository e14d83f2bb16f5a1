# Copyright (c) mmclipself contributors. All rights reserved.
import torch
import torch.nn.functional as F

from mmclipself.models.catseg import UpsampleDecoder


def _concat_reference(decoder, x, guidance, tile):
    """Explicit concatenation; ``tile`` chooses how guidance is repeated."""
    b, t, h, w, c = x.shape
    y = x.permute(0, 1, 4, 2, 3).reshape(b * t, c, h, w)
    for proj, stage, g in zip(decoder.guidance_proj, decoder.stages, guidance):
        g = proj(g)
        g = g.repeat_interleave(t, 0) if tile == 'image' else g.repeat(
            t, 1, 1, 1)
        y = torch.cat([stage.up(y), g], 1)
        y = F.relu(stage.norm1(stage.conv1(y)))
        y = F.relu(stage.norm2(stage.conv2(y)))
    return decoder.head(y).view(b, t, 4 * h, 4 * w)


def test_decoder_pairs_guidance_with_its_image():
    torch.manual_seed(0)
    decoder = UpsampleDecoder(16, (16, 8), (5, 3), (4, 2))
    x = torch.randn(2, 3, 4, 4, 16)
    guidance = [torch.randn(2, 5, 8, 8), torch.randn(2, 3, 16, 16)]
    with torch.no_grad():
        out = decoder(x, guidance)
        assert out.shape == (2, 3, 16, 16)
        # each image alone gives the same maps
        for b in range(2):
            alone = decoder(x[b:b + 1], [g[b:b + 1] for g in guidance])
            torch.testing.assert_close(
                out[b:b + 1], alone, rtol=1e-4, atol=1e-5)
        torch.testing.assert_close(
            out,
            _concat_reference(decoder, x, guidance, 'image'),
            rtol=1e-4,
            atol=1e-5)
        # the (T, B) tiling of mmseg's port pairs wrongly and differs
        wrong = _concat_reference(decoder, x, guidance, 'tile')
        assert not torch.allclose(out, wrong, atol=1e-3)


def test_release_channels():
    decoder = UpsampleDecoder(128, (64, 32), (256, 128), (32, 16))
    s1, s2 = decoder.stages
    assert (s1.up.in_channels, s1.up.out_channels) == (128, 96)
    assert (s2.up.in_channels, s2.up.out_channels) == (64, 48)
    assert (s1.norm1.num_groups, s2.norm1.num_groups) == (4, 2)
    assert s1.conv1.bias is None and s1.conv2.bias is None
    assert decoder.head.out_channels == 1
