# Copyright (c) mmclipself contributors. All rights reserved.
from .cosine_similarity_loss import CosineSimilarityLoss

__all__ = ['CosineSimilarityLoss']
