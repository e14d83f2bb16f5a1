# Copyright (c) mmclipself contributors. All rights reserved.
"""The model zoo files list every config, each under its file's name.

MIM (``mim search``, ``mim download``, ``mmclipself::`` lookups) reads
model-index.yml and the metafiles it imports; an entry named differently
from its config, or a config without an entry, is invisible or misleading
there.
"""
import glob
import os.path as osp

import yaml

REPO = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))
CONFIG_DIRS = sorted(
    d for d in glob.glob(osp.join(REPO, 'configs', '*'))
    if osp.isdir(d) and osp.basename(d) != '_base_')


def _load(path):
    with open(path) as f:
        return yaml.safe_load(f)


def check_metafile(meta: dict, folder: str) -> list:
    """Problems of a metafile's content against the configs of ``folder``."""
    rel_folder = osp.relpath(folder, REPO)
    problems = []
    collections = {c['Name'] for c in meta.get('Collections', [])}
    for c in meta.get('Collections', []):
        readme = c.get('README')
        if readme and not osp.isfile(osp.join(REPO, readme)):
            problems.append(f'collection {c["Name"]}: no {readme}')
    names = []
    for model in meta.get('Models', []):
        name, config = model['Name'], model['Config']
        names.append(name)
        if model.get('In Collection') not in collections:
            problems.append(f'{name}: unknown collection '
                            f'{model.get("In Collection")!r}')
        if osp.dirname(config) != rel_folder or not osp.isfile(
                osp.join(REPO, config)):
            problems.append(f'{name}: no config {config} in {rel_folder}')
        if osp.splitext(osp.basename(config))[0] != name:
            problems.append(f'{name}: named differently from {config}')
    if len(set(names)) != len(names):
        problems.append('duplicate names')
    stems = {
        osp.splitext(osp.basename(c))[0]
        for c in glob.glob(osp.join(folder, '*.py'))
    }
    for stem in sorted(stems - set(names)):
        problems.append(f'{rel_folder}/{stem}.py has no entry')
    return problems


def test_model_index_imports_every_metafile():
    index = _load(osp.join(REPO, 'model-index.yml'))
    expected = [
        osp.relpath(osp.join(d, 'metafile.yml'), REPO) for d in CONFIG_DIRS
    ]
    assert sorted(index['Import']) == expected
    assert all(osp.isfile(osp.join(REPO, p)) for p in expected)


def test_metafiles_list_every_config_under_its_name():
    assert CONFIG_DIRS
    for folder in CONFIG_DIRS:
        meta = _load(osp.join(folder, 'metafile.yml'))
        assert check_metafile(meta, folder) == []


def test_the_check_finds_a_wrong_metafile():
    folder = osp.join(REPO, 'configs', 'fvit')
    meta = _load(osp.join(folder, 'metafile.yml'))
    models = meta['Models']
    models[0]['Name'] += '_renamed'
    del models[1]
    models[2]['In Collection'] = 'Nope'
    problems = check_metafile(meta, folder)
    assert len(problems) == 4, problems
    assert any('named differently' in p for p in problems)
    assert any('unknown collection' in p for p in problems)
    assert sum('has no entry' in p for p in problems) == 2
