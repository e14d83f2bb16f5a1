# F-ViT with the original OpenAI CLIP ViT-B/16 on OV-COCO, 640 x 640 (the
# release's ViT-B/16 setting on an OpenAI tower).
_base_ = [
    '../_base_/models/fvit_openai-vitb16.py',
    '../_base_/datasets/ov_coco_detection.py',
    '../_base_/schedules/fvit_3e.py', '../_base_/det_runtime.py'
]

# tools/generate_text_embeddings.py --dataset coco65 --background
#   --model ViT-B-16-quickgelu
#   --pretrained open_clip://ViT-B-16-quickgelu/openai
vocabulary = 'data/text_embeddings/openai-vitb16_coco65.pt'
model = dict(
    roi_head=dict(
        bbox_head=dict(
            cls_predictor_cfg=dict(embeddings=vocabulary),
            base_classes='coco48',
            bg_weight=0.6),  # release, OV-COCO
        clip_fusion=dict(temperature=75.0, alpha=0.1, beta=0.8)))
