# As ./maskcls_r50-openai-vitl14-336_ade20k-instance.py, scoring every mask
# with the CLIP score alone (CLIPSelf Table 5 "CLIP-only").
_base_ = './maskcls_r50-openai-vitl14-336_ade20k-instance.py'

model = dict(clip_mode='clip_only')
