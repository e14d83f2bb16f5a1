# Cat-Seg CVPR'24 on OpenAI CLIP ViT-B/16 (segmentation facts §2): the base
# of the Cat-Seg model family. Built in MMSegmentation's scope (`_scope_`);
# mmclipself's own modules are the only prefixed names (`mmclipself.X`).
#
# CVPR'24 = intermediate-layer guidance (no guidance backbone), q/v weights
# of the image and text towers fine-tuned, one prompt template, class
# padding / top-k selection at 256 (facts §2.1, §2.2).
# Training vocabulary: the 171 COCO-Stuff classes in label order (facts
# §2.3); test configs set `model.test_vocabulary` (a benchmark name of
# mmclipself.vocab.list_vocabularies(), a class file or a list).

# CLIP's mean/std x 255 (facts §1.2)
clip_mean = [122.7709383, 116.7460125, 104.09373615]
clip_std = [68.5005327, 66.6321579, 70.3231630]
data_preprocessor = dict(
    type='SegDataPreProcessor',
    mean=clip_mean,
    std=clip_std,
    bgr_to_rgb=True,
    # training batches arrive padded to the 384 crop by the training
    # pipeline's Pad (raw pixel 128, label 255, facts §2.3); this padding
    # only acts on other pipelines (0 = CLIP's mean pixel after
    # normalising)
    size=(384, 384),
    pad_val=0,
    seg_pad_val=255)
# the dense CLIP map runs the last block value-only (facts §1.1), so its q
# and k weights, trainable in both recipes, never get a gradient
model_wrapper_cfg = dict(
    type='MMDistributedDataParallel', find_unused_parameters=True)
model = dict(
    _scope_='mmseg',
    type='mmclipself.CATSeg',
    data_preprocessor=data_preprocessor,
    clip_tower=dict(
        type='mmclipself.OpenAICLIPViT',
        arch='vit-b16',
        pretrained='open_clip://ViT-B-16-quickgelu/openai',
        # guidance taps: resblocks[3] and [7] for B/16 (facts §2.1)
        out_indices=(3, 7),
        # the release's dense path (facts §1.1, CVPR'24): the last block's
        # value path with the class token's input as every token's skip,
        # and the map un-normalised (the appearance guidance is the raw
        # map; the cost volume normalises it itself)
        dense_residual='cls',
        normalize_dense=False,
        # only q and v weights train; k, in_proj biases, out_proj, norms,
        # MLPs, embeddings (pos-embed too) and proj stay frozen (§2.1)
        train_patterns=[
            'visual.transformer.resblocks.*.attn.[qv]_proj.weight'
        ]),
    text_encoder=dict(
        type='mmclipself.CLIPTextEncoder',
        model_name='ViT-B-16-quickgelu',
        pretrained='open_clip://ViT-B-16-quickgelu/openai',
        # the text tower trains its q/v weights too (CVPR'24, facts §2.1)
        train_patterns=['text.transformer.resblocks.*.attn.[qv]_proj.weight']),
    # tap0 -> ConvT(768->256, k2 s2), tap1 -> ConvT(768->128, k4 s4) (§2.1)
    tap_guidance=dict(
        type='mmclipself.CLIPTapGuidance',
        in_channels=768,
        out_channels=(256, 128),
        scales=(2, 4)),
    decode_head=dict(
        type='mmclipself.CATSegHead',
        # C_txt / C_app / decoder guidance of CVPR B/16 (facts §2.2)
        text_channels=512,
        appearance_channels=512,
        decoder_guidance_channels=(256, 128),
        num_classes=171,  # the training vocabulary (informative)
        num_templates=1,
        # release sizes (facts §2.2, vitb_384.yaml)
        hidden_channels=128,
        num_layers=2,
        num_heads=4,
        window_size=12,
        pooling_size=(2, 2),  # training
        test_pooling_size=(1, 1),  # eval.sh
        appearance_proj=128,
        text_proj=128,
        decoder_channels=(64, 32),
        decoder_guidance_proj=(32, 16),
        pad_len=256,  # class padding / top-k (CVPR only, facts §2.2)
        dropped_logit=-100.0,
        # ignored pixels get an all-zero target as in the release (§2.2);
        # 'exclude' leaves them out of the loss
        ignore_mode='release',
        loss_weight=1.0),
    # 384x384 input -> 24x24 grid for B/16 (facts §2.1)
    clip_resolution=(384, 384),
    train_vocabulary='coco_stuff',
    test_vocabulary=None,  # = train_vocabulary
    # 'A photo of a {} in the scene', first synonym only (facts §1.5)
    templates='catseg_cvpr',
    synonyms='first',
    # the release's protocol (facts §2.4): 2x2 windows of 384 at stride 256
    # on the 640x640 image + one global view, averaged after the sigmoid;
    # mode='slide' / 'whole' select MMSegmentation's own inference
    test_cfg=dict(mode='catseg', crop_size=384, stride=256, out_size=640))
