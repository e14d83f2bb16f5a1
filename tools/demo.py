# Copyright (c) mmclipself contributors. All rights reserved.
"""`make demo`: smoke check of the installed stack.

Until the CLIPSelf distillation job lands, the demo checks what the
foundation provides: the environment report, mmcv's compiled ops on the
available device, and one config that builds mmclipself, mmdet and mmseg
modules by scope.
"""
import torch
from mmengine.config import Config

from mmclipself.registry import MODELS
from mmclipself.utils import collect_env, register_all_modules


def main() -> None:
    print('== environment ==')
    for name, value in collect_env().items():
        if name in ('sys.platform', 'Python', 'CUDA available', 'PyTorch',
                    'TorchVision', 'MMEngine', 'MMCV', 'MMCV ops',
                    'MMDetection', 'MMSegmentation', 'open_clip', 'timm',
                    'mmclipself'):
            print(f'{name}: {value}')

    print('== mmcv ops ==')
    from mmcv.ops import RoIAlign, batched_nms
    device = 'cuda' if torch.cuda.is_available() else 'cpu'
    feats = torch.rand(1, 8, 32, 32, device=device)
    rois = torch.tensor([[0, 2., 2., 20., 20.], [0, 8., 4., 30., 16.]],
                        device=device)
    pooled = RoIAlign((7, 7), spatial_scale=1., sampling_ratio=0,
                      aligned=True)(feats, rois)
    boxes = torch.tensor(
        [[0., 0., 10., 10.], [1., 1., 11., 11.], [50., 50., 60., 60.]],
        device=device)
    scores = torch.tensor([0.9, 0.8, 0.7], device=device)
    _, keep = batched_nms(boxes, scores, torch.zeros(3, device=device),
                          dict(type='nms', iou_threshold=0.5))
    print(f'RoIAlign on {device}: {tuple(pooled.shape)}; '
          f'batched_nms kept {keep.tolist()} of [0, 1, 2]')

    print('== one config, three scopes ==')
    register_all_modules()
    cfg = Config(
        dict(
            loss=dict(type='CosineSimilarityLoss'),
            neck=dict(
                type='mmdet.FPN',
                in_channels=[8, 8],
                out_channels=8,
                num_outs=2),
            head=dict(
                _scope_='mmseg',  # sub-modules (its loss) resolve in mmseg too
                type='FCNHead',
                in_channels=8,
                channels=8,
                num_classes=3,
                num_convs=1)))
    for key in ('loss', 'neck', 'head'):
        module = MODELS.build(cfg[key])
        print(f'{cfg[key]["type"]:>22} -> {type(module).__module__}.'
              f'{type(module).__name__}')
    print('demo finished: the stack works')


if __name__ == '__main__':
    main()
