# As maskcls_r50_eva-vitl14-336.py with the CLIPSelf-refined tower: the
# student of configs/clipself/eva_vitl14_coco.py exported with
#   python tools/model_converters/export_student.py CKPT \
#       $CLIPSELF_CHECKPOINTS/eva_vitl14_coco_clipself_patches.pt
# ($CLIPSELF_CHECKPOINTS defaults to checkpoints/). CLIPSelf refines the
# image tower only: the text tower, hence the vocabulary files, is EVA02's.
_base_ = './maskcls_r50_eva-vitl14-336.py'

clipself_weights = '{{$CLIPSELF_CHECKPOINTS:checkpoints}}/' \
    'eva_vitl14_coco_clipself_patches.pt'
model = dict(clip_tower=dict(pretrained=clipself_weights))
