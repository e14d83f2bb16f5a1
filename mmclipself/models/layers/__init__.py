# Copyright (c) mmclipself contributors. All rights reserved.
from .pos_embed import resize_pos_embed
from .text_embedding_classifier import (TextEmbeddingClassifier,
                                        load_text_embeddings)

__all__ = [
    'resize_pos_embed', 'TextEmbeddingClassifier', 'load_text_embeddings'
]
