# F-ViT with the original OpenAI CLIP ViT-L/14 on OV-COCO, 896 x 896 (the
# release's ViT-L/14 setting on an OpenAI tower).
_base_ = [
    '../_base_/models/fvit_openai-vitl14.py',
    '../_base_/datasets/ov_coco_detection_896.py',
    '../_base_/schedules/fvit_3e.py', '../_base_/det_runtime.py'
]

# tools/generate_text_embeddings.py --dataset coco65 --background
#   --model ViT-L-14-quickgelu
#   --pretrained open_clip://ViT-L-14-quickgelu/openai
vocabulary = 'data/text_embeddings/openai-vitl14_coco65.pt'
model = dict(
    roi_head=dict(
        bbox_head=dict(
            cls_predictor_cfg=dict(embeddings=vocabulary),
            base_classes='coco48',
            bg_weight=0.6),  # release, OV-COCO
        clip_fusion=dict(temperature=75.0, alpha=0.1, beta=0.8)))
