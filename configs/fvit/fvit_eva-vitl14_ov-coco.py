# F-ViT with the original EVA02-CLIP ViT-L/14-336 on OV-COCO (paper Table
# A7 "F-ViT", ViT-L/14: 24.7 AP50 novel). 8 GPUs x 8 images, 896 x 896.
_base_ = [
    '../_base_/models/fvit_eva-vitl14.py',
    '../_base_/datasets/ov_coco_detection_896.py',
    '../_base_/schedules/fvit_3e.py', '../_base_/det_runtime.py'
]

# tools/generate_text_embeddings.py --dataset coco65 --background
#   --model EVA02-L-14-336
vocabulary = 'data/text_embeddings/eva02-l14-336_coco65.pt'
model = dict(
    roi_head=dict(
        bbox_head=dict(
            cls_predictor_cfg=dict(embeddings=vocabulary),
            base_classes='coco48',
            bg_weight=0.6),  # release, OV-COCO
        # release OV-COCO fusion (ViT-B and ViT-L alike)
        clip_fusion=dict(temperature=75.0, alpha=0.1, beta=0.8)))
