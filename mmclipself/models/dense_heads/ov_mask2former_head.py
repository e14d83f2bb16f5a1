# Copyright (c) mmclipself contributors. All rights reserved.
from contextlib import contextmanager
from typing import Dict, Iterator, Optional, Tuple, Union

from mmdet.models.dense_heads import Mask2FormerHead
from mmdet.structures import SampleList
from mmengine.config import ConfigDict
from torch import Tensor

from mmclipself.registry import MODELS
from mmclipself.utils.typing_utils import ConfigType
from mmclipself.vocab import Vocabulary, load_vocabulary
from ..layers.ov_query_classifier import OVQueryClassifier

VocabularyInput = Union[str, Vocabulary]


def read_vocabulary(vocabulary: VocabularyInput, where: str) -> Vocabulary:
    """A vocabulary (file or object) without its "background" entry.

    Raises:
        TypeError: ``vocabulary`` is neither a file path nor a
            :class:`~mmclipself.vocab.Vocabulary` (names ``where``).
    """
    if isinstance(vocabulary, str):
        vocabulary = load_vocabulary(vocabulary)
    if not isinstance(vocabulary, Vocabulary):
        raise TypeError(f'{where} must be a vocabulary file (text '
                        'embeddings of tools/generate_text_embeddings.py) '
                        f'or a Vocabulary, got {type(vocabulary).__name__}')
    classes, _ = vocabulary.split_background()  # the void is learned
    return classes


def split_things(num_classes: int, num_things_classes: Optional[int],
                 num_stuff_classes: Optional[int], where: str) -> int:
    """Number of thing classes, checked against the vocabulary size."""
    if num_things_classes is None:
        num_things_classes = num_classes if num_stuff_classes is None \
            else num_classes - num_stuff_classes
    stuff = num_classes - num_things_classes
    if not 0 <= num_things_classes <= num_classes or (
            num_stuff_classes is not None and stuff != num_stuff_classes):
        raise ValueError(
            f'{where}: {num_things_classes} things + '
            f'{num_stuff_classes} stuff classes do not make the '
            f'{num_classes} classes of the vocabulary (things first, then '
            'stuff, as MMDetection panoptic datasets order them)')
    return num_things_classes


@MODELS.register_module()
class OVMask2FormerHead(Mask2FormerHead):
    """Mask2Former head with an open-vocabulary class head.

    MMDetection's :class:`Mask2FormerHead` (pixel decoder, masked-attention
    decoder, Hungarian matching, losses: all unchanged) whose ``cls_embed``
    ``Linear(256, K + 1)`` is replaced by an :class:`OVQueryClassifier`:
    the query is projected to the CLIP width and compared by cosine with
    the vocabulary's text embeddings and a learned void embedding, times a
    learned temperature (FC-CLIP / ODISE, facts §3.6-3.7).

    **Vocabularies.** ``vocabulary`` is the training vocabulary (COCO
    panoptic: 133 classes in the dataset's order, 80 things then 53 stuff);
    :meth:`loss` always classifies over it, and ``num_things_classes``,
    ``num_stuff_classes`` and ``num_classes`` (the label space of the
    training targets, void = ``num_classes``) are its. :meth:`predict`
    classifies over the test vocabulary: ``test_vocabulary`` or, later,
    :meth:`set_vocabulary` (default: the training one). Text embeddings are
    non-persistent buffers: checkpoints hold no vocabulary and load strictly
    into a head built with any other one.

    Args:
        vocabulary: Training vocabulary file (or
            :class:`~mmclipself.vocab.Vocabulary`); a "background" entry is
            ignored (the void embedding is learned).
        test_vocabulary: Prediction vocabulary (default: ``vocabulary``).
        num_things_classes: Things of the training vocabulary (first).
        num_stuff_classes: Stuff of the training vocabulary (``None``: the
            rest).
        test_num_things_classes: Things of the test vocabulary (``None``:
            the training split if there is no ``test_vocabulary``, else
            all classes count as things).
        classifier: Extra :class:`OVQueryClassifier` arguments
            (``logit_scale_init``, ``logit_scale_max``...).
        void_weight: Loss weight of the void class when ``loss_cls`` has no
            ``class_weight`` (Mask2Former: 0.1, facts §4).
        loss_cls: As :class:`Mask2FormerHead`; ``class_weight`` ``None``
            means ``[1.0] * K + [void_weight]``.
        **kwargs: The other :class:`Mask2FormerHead` arguments.
    """

    def __init__(self,
                 vocabulary: VocabularyInput,
                 test_vocabulary: Optional[VocabularyInput] = None,
                 num_things_classes: Optional[int] = 80,
                 num_stuff_classes: Optional[int] = None,
                 test_num_things_classes: Optional[int] = None,
                 classifier: Optional[ConfigType] = None,
                 void_weight: float = 0.1,
                 loss_cls: ConfigType = dict(
                     type='CrossEntropyLoss',
                     use_sigmoid=False,
                     loss_weight=2.0,
                     reduction='mean',
                     class_weight=None),
                 **kwargs) -> None:
        train = read_vocabulary(vocabulary, 'OVMask2FormerHead.vocabulary')
        k = len(train.class_names)
        things = split_things(k, num_things_classes, num_stuff_classes,
                              f'OVMask2FormerHead.vocabulary {train.where}')
        loss_cls = ConfigDict(loss_cls)
        if loss_cls.get('class_weight') is None:
            loss_cls.class_weight = [1.0] * k + [float(void_weight)]
        elif len(loss_cls.class_weight) != k + 1:
            raise ValueError(
                f'loss_cls.class_weight has {len(loss_cls.class_weight)} '
                f'entries but the training vocabulary {train.where} has {k} '
                'classes + void: set it to None ([1.0] * K + [void_weight])')
        super().__init__(
            num_things_classes=things,
            num_stuff_classes=k - things,
            loss_cls=loss_cls,
            **kwargs)
        self.cls_embed = OVQueryClassifier(
            in_features=self.cls_embed.in_features,
            embed_dims=train.dim,
            **(classifier or {}))
        self._vocabularies: Dict[str, Vocabulary] = dict(train=train)
        self.register_buffer(
            'train_text_embeddings',
            train.embeddings.clone(),
            persistent=False)
        self.register_buffer(
            'text_embeddings', train.embeddings.clone(), persistent=False)
        if test_vocabulary is None:
            self._set_test(train, things)
        else:
            self.set_vocabulary(test_vocabulary, test_num_things_classes)

    # ------------------------------------------------------------------
    # vocabulary
    # ------------------------------------------------------------------
    @property
    def class_names(self) -> Tuple[str, ...]:
        """The prediction (test) vocabulary."""
        return tuple(self._vocabularies['test'].class_names)

    @property
    def train_class_names(self) -> Tuple[str, ...]:
        """The training vocabulary (order of the training labels)."""
        return tuple(self._vocabularies['train'].class_names)

    @property
    def test_num_things_classes(self) -> int:
        """Things of the test vocabulary (listed first)."""
        return self._test_things

    @property
    def vocabulary_provenance(self) -> dict:
        """How the test vocabulary was made, with its ``file``."""
        vocab = self._vocabularies['test']
        return dict(vocab.provenance, file=vocab.source)

    def _set_test(self, vocab: Vocabulary, num_things: int) -> None:
        self._vocabularies['test'] = vocab
        self._test_things = num_things
        self.text_embeddings = vocab.embeddings.to(
            self.train_text_embeddings.device).clone()
        self.cls_embed.class_embeddings = self.text_embeddings

    def set_vocabulary(self,
                       vocabulary: VocabularyInput,
                       num_things_classes: Optional[int] = None) -> None:
        """Predict over another vocabulary, in place (no weight changes).

        Args:
            vocabulary: A vocabulary file or
                :class:`~mmclipself.vocab.Vocabulary` encoded by the same
                CLIP as the training one.
            num_things_classes: Its thing classes (listed first); ``None``:
                all are things.

        Raises:
            ValueError: Another embedding width, or a bad things count.
        """
        vocab = read_vocabulary(vocabulary, 'set_vocabulary')
        train = self._vocabularies['train']
        if vocab.dim != train.dim:
            raise ValueError(
                f'the test vocabulary {vocab.where} holds {vocab.dim}-d '
                f'embeddings but the training vocabulary {train.where} '
                f'{train.dim}-d: encode both with the same CLIP')
        things = split_things(
            len(vocab.class_names), num_things_classes, None,
            f'test vocabulary {vocab.where}')
        self._set_test(vocab, things)

    @contextmanager
    def _using(self, split: str) -> Iterator[None]:
        """Classify over the ``'train'`` or ``'test'`` vocabulary."""
        emb = self.train_text_embeddings if split == 'train' \
            else self.text_embeddings
        self.cls_embed.class_embeddings = emb
        try:
            yield
        finally:
            self.cls_embed.class_embeddings = self.text_embeddings

    # ------------------------------------------------------------------
    # train / predict
    # ------------------------------------------------------------------
    def loss(self, x: Tuple[Tensor], batch_data_samples: SampleList) -> dict:
        """MMDetection's Mask2Former loss over the training vocabulary."""
        with self._using('train'):
            return super().loss(x, batch_data_samples)

    def predict(self, x: Tuple[Tensor],
                batch_data_samples: SampleList) -> Tuple[Tensor, Tensor]:
        """Last-layer class logits ``(B, Q, K + 1)`` over the test
        vocabulary and mask logits at the padded input size."""
        with self._using('test'):
            return super().predict(x, batch_data_samples)
