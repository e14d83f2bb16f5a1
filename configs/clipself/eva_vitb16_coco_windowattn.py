# CLIPSelf on EVA02-CLIP ViT-B/16 whose student attends within 4x4 windows
# (paper Table 7 "WindowAttn", #4): the 64x64 token grid of a 1024 input
# splits into 16 windows of 16x16 tokens; the class token is replicated per
# window and averaged. The teacher keeps global attention on its crops.
_base_ = './eva_vitb16_coco.py'

model = dict(student=dict(window_attn=(4, 4)))
