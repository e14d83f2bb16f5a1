# A class-agnostic RPN on the frozen EVA02-CLIP ViT-B/16 pyramid, trained on
# the 48 OV-COCO base classes only: the proposal source of CLIPSelf's
# "region proposals" mode (paper §4, Table 2/3 "Region Proposals"). The
# release distilled on `coco_pseudo_4764.json` without saying how it was
# made; this config plus tools/misc/dump_proposals.py make such a file
# reproducibly (configs/fvit/PROPOSALS.md has the commands).
#
# Backbone, FPN and RPN head are exactly those of F-ViT
# (fvit_eva-vitb16_ov-coco.py), only without the RoI head; 8 GPUs x 8 images,
# 640 x 640 input.
_base_ = [
    '../_base_/models/fvit_eva-vitb16.py',
    '../_base_/datasets/ov_coco_detection.py',
    '../_base_/schedules/fvit_3e.py', '../_base_/det_runtime.py'
]

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
    # (1000 per level before NMS 0.7, 1000 kept), so AR@1000 below is the
    # recall F-ViT's RoI head starts from; tools/misc/dump_proposals.py
    # keeps the top --max-per-img (100) of them
    test_cfg=dict(rpn=_base_.model.test_cfg.rpn))

# Data (from ov_coco_detection.py): train on
# annotations/instances_train2017_seen_2_65_cat.json (base-class boxes only;
# images without one are skipped, filter_empty_gt), F-ViT's large-scale
# jitter at 640; validate on val2017 with the boxes of all 65 classes, so the
# recall below includes the 17 novel classes the RPN never saw.
train_dataloader = dict(
    # the base names MMDetection's sampler without its scope; the Runner
    # looks it up under default_scope 'mmclipself' and would not find it
    batch_sampler=dict(type='mmdet.AspectRatioBatchSampler'))

# Schedule (from fvit_3e.py): 3 epochs, AdamW lr 1e-4 at batch 64, weight
# decay 0.1, clip 1.0, 250 warm-up iterations, fp16. This is the schedule
# under which the RPN inside F-ViT is trained, so this RPN gets the same
# training as the one that proposes boxes for F-ViT; nothing shorter is
# claimed to be enough.

# class-agnostic average recall at 100/300/1000 proposals over IoU
# 0.5:0.95 (COCOeval with useCats=0), plus AR_s/m/l at 1000. MMDetection's
# RPN configs use metric='proposal_fast', but its eval_recalls fails with
# NumPy >= 1.24 (open-mmlab/mmdetection#9936, fix #12063 unmerged).
val_evaluator = dict(
    _delete_=True,  # drop OVCocoMetric's novel/base class arguments
    type='mmdet.CocoMetric',
    # from ov_coco_detection.py: instances_val2017_all_2.json (65 classes)
    ann_file=_base_.val_evaluator.ann_file,
    metric='proposal',
    proposal_nums=(100, 300, 1000))
test_evaluator = val_evaluator

# keep the epoch with the best recall of the 100 proposals that are dumped
default_hooks = dict(checkpoint=dict(save_best='coco/AR@100', rule='greater'))
