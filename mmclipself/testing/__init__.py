# Copyright (c) mmclipself contributors. All rights reserved.
"""Shared helpers for tests and for users' own tests of mmclipself modules.

- :mod:`.towers`: tiny random CLIP towers (EVA02 and OpenAI shaped);
- :mod:`.fvit`: tiny F-ViT configs, tower and vocabulary files;
- :mod:`.text`: tiny open_clip CLIP configs for text-tower tests;
- :mod:`.detection` / :mod:`.panoptic`: tiny COCO / LVIS / COCO-panoptic
  sets written from real photos with hand-made annotations;
- :mod:`.segmentation`: tiny semantic-segmentation sets (real photos,
  hand-made 8/16-bit label maps) in the layouts of the Cat-Seg data configs;
- :mod:`.catseg`: tiny Cat-Seg configs (the shipped configs, shrunk);
- :mod:`.configs`: config inspection (inheritance depth).

Submodules import heavy dependencies lazily; import them directly, e.g.
``from mmclipself.testing.towers import tiny_eva``.
"""
