# F-ViT with the original EVA02-CLIP ViT-B/16 on OV-COCO (paper Table 3/A7
# "F-ViT", ViT-B/16: 17.5 AP50 novel). 8 GPUs x 8 images, 640 x 640 input.
_base_ = [
    '../_base_/models/fvit_eva-vitb16.py',
    '../_base_/datasets/ov_coco_detection.py',
    '../_base_/schedules/fvit_3e.py', '../_base_/det_runtime.py'
]

# tools/generate_text_embeddings.py --dataset coco65 --background
#   --model EVA02-B-16 (the text tower of the same CLIP)
vocabulary = 'data/text_embeddings/eva02-b16_coco65.pt'
model = dict(
    roi_head=dict(
        bbox_head=dict(
            cls_predictor_cfg=dict(embeddings=vocabulary),
            base_classes='coco48',  # 17 novel classes get no gradient
            bg_weight=0.6),  # release: background weight 0.6 on OV-COCO
        # release OV-COCO fusion: CLIP temperature 75, alpha 0.1 (base),
        # beta 0.8 (novel)
        clip_fusion=dict(temperature=75.0, alpha=0.1, beta=0.8)))
