# Copyright (c) mmclipself contributors. All rights reserved.
from .dense_mask_pool import DenseMaskPool
from .dense_roi_pool import DenseRoIPool
from .ov_query_classifier import OVQueryClassifier
from .pos_embed import resize_pos_embed
from .score_fusion import (VoidScoreFusion, fuse_clip_scores,
                           fuse_void_clip_logits)
from .split_qkv_attention import (SplitQKVAttention, pack_qkv_keys,
                                  split_packed_attention, split_qkv_keys)
from .text_embedding_classifier import (TextEmbeddingClassifier,
                                        load_text_embeddings)

__all__ = [
    'resize_pos_embed', 'TextEmbeddingClassifier', 'load_text_embeddings',
    'SplitQKVAttention', 'pack_qkv_keys', 'split_qkv_keys',
    'split_packed_attention',
    'DenseRoIPool', 'DenseMaskPool', 'VoidScoreFusion', 'fuse_clip_scores',
    'fuse_void_clip_logits', 'OVQueryClassifier'
]
