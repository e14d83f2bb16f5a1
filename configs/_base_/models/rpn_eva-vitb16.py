# A class-agnostic RPN on the frozen EVA02-CLIP ViT-B/16 pyramid: F-ViT's
# backbone, FPN and RPN head without the RoI head (the proposal source of
# CLIPSelf's "region proposals" mode, configs/fvit/PROPOSALS.md). Built in
# MMDetection's scope like the F-ViT family it is cut from.
_base_ = './fvit_eva-vitb16.py'

model = dict(
    _delete_=True,  # drop F-ViT's roi_head and rcnn train/test settings
    _scope_='mmdet',
    # MMDetection's RPN forces rpn_head.num_classes = 1 and sets every gt
    # label to 0: class-agnostic by construction, whatever the 48 labels
    type='RPN',
    # from the F-ViT base: ImageNet mean/std, pad to 640 x 640
    data_preprocessor=_base_.model.data_preprocessor,
    # from the F-ViT base: frozen EVA02-CLIP B/16 tapped at blocks
    # (3, 5, 7, 11) (paper A.3), 'convt' pyramid (release)
    backbone=_base_.model.backbone,
    neck=_base_.model.neck,  # from the F-ViT base: FPN 768 -> 256, 5 levels
    # from the F-ViT base: 2 convs (release), 3 anchors per location at
    # strides 4-64, CE + L1 losses
    rpn_head=_base_.model.rpn_head,
    # from the F-ViT base: MMDetection's RPN defaults (IoU 0.7 / 0.3,
    # 256 anchors sampled per image, half positive)
    train_cfg=dict(rpn=_base_.model.train_cfg.rpn),
    # from the F-ViT base: what F-ViT's own RPN proposes at test time
    # (1000 per level before NMS 0.7, 1000 kept), so AR@1000 is the recall
    # F-ViT's RoI head starts from; tools/misc/dump_proposals.py keeps the
    # top --max-per-img (100) of them
    test_cfg=dict(rpn=_base_.model.test_cfg.rpn))
