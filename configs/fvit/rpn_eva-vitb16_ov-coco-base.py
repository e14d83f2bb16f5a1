# A class-agnostic RPN on the frozen EVA02-CLIP ViT-B/16 pyramid, trained on
# the 48 OV-COCO base classes only: the proposal source of CLIPSelf's
# "region proposals" mode (paper §4, Table 2/3 "Region Proposals"). The
# release distilled on `coco_pseudo_4764.json` without saying how it was
# made; this config plus tools/misc/dump_proposals.py make such a file
# reproducibly (configs/fvit/PROPOSALS.md has the commands).
#
# Backbone, FPN and RPN head are exactly those of F-ViT
# (fvit_eva-vitb16_ov-coco.py), only without the RoI head
# (_base_/models/rpn_eva-vitb16.py); 8 GPUs x 8 images, 640 x 640 input.
_base_ = [
    '../_base_/models/rpn_eva-vitb16.py',
    '../_base_/datasets/ov_coco_detection.py',
    '../_base_/schedules/fvit_3e.py', '../_base_/det_runtime.py'
]

# Data (from ov_coco_detection.py): train on
# annotations/instances_train2017_seen_2_65_cat.json (base-class boxes only;
# images without one are skipped, filter_empty_gt), F-ViT's large-scale
# jitter at 640; validate on val2017 with the boxes of all 65 classes, so the
# recall below includes the 17 novel classes the RPN never saw.

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
    type='CocoMetric',
    # from ov_coco_detection.py: instances_val2017_all_2.json (65 classes)
    ann_file=_base_.val_evaluator.ann_file,
    metric='proposal',
    proposal_nums=(100, 300, 1000))
test_evaluator = val_evaluator

# keep the epoch with the best recall of the 100 proposals that are dumped
default_hooks = dict(checkpoint=dict(save_best='coco/AR@100', rule='greater'))
