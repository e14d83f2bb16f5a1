# Evaluation of the dense representation (paper §4.2, Tables 2 / A3):
# zero-shot classification of COCO panoptic val2017 segments (boxes by
# RoIAlign, thing/stuff masks by mask pooling, and the image-crop baseline)
# with text embeddings of the 133 panoptic classes from the same CLIP:
#   python tools/generate_text_embeddings.py --dataset coco_panoptic \
#       --model EVA02-B-16 --pretrained <weights> --out <text_embeddings>
panoptic_data_root = 'data/coco/'
panoptic_pipeline = [
    dict(type='mmclipself.LoadImageOrSkip'),
    # thing crops enlarged 1.5x, stuff crops the mask's box (release)
    dict(type='mmclipself.LoadPanopticRegions', thing_crop_scale=1.5),
    dict(type='mmclipself.PackRegionInputs'),
]
val_dataloader = dict(
    batch_size=1,
    num_workers=2,
    persistent_workers=True,
    sampler=dict(type='DefaultSampler', shuffle=False),
    # collate_fn: MMEngine's default (pseudo_collate). Not written: a
    # config inheriting ours via `mmclipself::` would pass it `_scope_`.
    dataset=dict(
        type='mmclipself.CocoPanopticRegionDataset',
        data_root=panoptic_data_root,
        ann_file='annotations/panoptic_val2017.json',
        data_prefix=dict(
            img_path='val2017/', seg_path='annotations/panoptic_val2017/'),
        test_mode=True,
        pipeline=panoptic_pipeline))
test_dataloader = val_dataloader
val_evaluator = dict(
    type='mmclipself.RegionRecognitionMetric',
    text_embeddings='data/embeddings/coco_panoptic_eva02-b16.pt')
test_evaluator = val_evaluator
