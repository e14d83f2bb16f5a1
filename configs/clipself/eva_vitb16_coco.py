# CLIPSelf on EVA02-CLIP ViT-B/16 with COCO train2017 image patches
# (paper §4.1, Table 2/3 "Image Patches"; release defaults, reference facts
# §2). Total batch 16 = 8 GPUs x 2 images, 6 epochs.
_base_ = [
    '../_base_/default_runtime.py',
    '../_base_/datasets/clipself_coco.py',
    '../_base_/datasets/coco_panoptic_region_recognition.py',
    '../_base_/schedules/clipself_6e.py',
]

student = dict(
    type='mmclipself.EVA02CLIPViT',
    arch='eva02-b16',
    # EVA02_CLIP_B_psz16_s8B weights via open_clip (fp16 copy on the HF
    # hub); a local open_clip/EVA-CLIP/CLIPSelf .pt works too.
    pretrained='open_clip://EVA02-B-16/merged2b_s8b_b131k',
    # all 12 blocks train; embeddings, final norm and head stay frozen
    # (paper Table 1b, release --lock-image-unlocked-groups 12)
    train_blocks='all')
model = dict(
    type='mmclipself.CLIPSelfDistiller',
    student=student,
    data_preprocessor=dict(
        type='mmclipself.CLIPSelfDataPreprocessor',
        student_size=1024,  # paper Table 1c: 1024 for B/16
        crop_size=224))  # the teacher's pre-training resolution

train_dataloader = dict(batch_size=2)

custom_hooks = [
    # release: saved weights are 0.7 * student + 0.3 * teacher for B/16
    dict(type='mmclipself.StudentTeacherBlendHook', alpha=0.7),
]
