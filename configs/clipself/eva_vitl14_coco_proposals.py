# CLIPSelf EVA02-CLIP ViT-L/14-336 with region proposals instead of the grid
# (paper Table 2/3 "Region Proposals"). The proposals JSON holds COCO
# detection results ([{image_id, bbox: [x, y, w, h], score}]).
_base_ = './eva_vitl14_coco.py'

train_dataloader = dict(
    dataset=dict(
        proposal_file='proposals/coco_train2017_proposals.json',
        pipeline=[
            dict(type='mmclipself.LoadImageOrSkip'),
            # release: <= 20 boxes of 8^2..1024^2 px; teacher crops are the
            # boxes enlarged 1.5x around their centre
            dict(
                type='mmclipself.ProposalRegions',
                max_regions=20,
                min_size=8,
                max_size=1024,
                crop_scale=1.5),
            dict(type='mmclipself.PackRegionInputs'),
        ]))
