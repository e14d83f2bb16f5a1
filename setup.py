# Copyright (c) mmclipself contributors. All rights reserved.
"""Packaging of mmclipself.

Configs ship inside the package as ``mmclipself/.mim/configs`` (the layout
MMEngine reads for ``_base_ = 'mmclipself::...'``): copied into wheels and
sdists, symlinked to the repository's ``configs/`` for editable installs so
that edits are seen at once.

Why the distribution is called ``mmclipself-openmmlab`` and not
``mmclipself``: MMEngine 0.10 resolves ``mmclipself::`` with
``pkg_resources.get_distribution('mmclipself').location`` joined with the
package name. For a PEP 660 editable install that location is
``site-packages``, where no ``mmclipself`` folder exists, so every
``mmclipself::`` config would be "not found". When no distribution of that
exact name exists, MMEngine falls back to ``importlib.util.find_spec``, which
returns the real package folder for editable and normal installs alike. The
import name, the registry scope and the config scope stay ``mmclipself``.
"""
import os
import os.path as osp
import shutil
import sys
from setuptools import find_packages, setup

ROOT = osp.dirname(osp.abspath(__file__))
MIM_FILES = ['configs', 'model-index.yml']


def readme() -> str:
    with open(osp.join(ROOT, 'README.md'), encoding='utf-8') as f:
        return f.read()


def get_version() -> str:
    scope: dict = {}
    with open(osp.join(ROOT, 'mmclipself', 'version.py')) as f:
        exec(compile(f.read(), 'version.py', 'exec'), scope)
    return scope['__version__']


def parse_requirements(*names: str) -> list:
    """Read requirement lines (no options, no -r includes) from files."""
    reqs = []
    for name in names:
        with open(osp.join(ROOT, 'requirements', name)) as f:
            for line in f:
                line = line.split('#')[0].strip()
                if line and not line.startswith('-'):
                    reqs.append(line)
    return reqs


def add_mim_extension() -> None:
    """Place configs and model-index.yml under ``mmclipself/.mim``.

    Symlinks for editable installs, copies for every other build.
    """
    if 'editable_wheel' in sys.argv or 'develop' in sys.argv:
        mode = 'symlink'
    elif any(
            cmd in sys.argv
            for cmd in ('sdist', 'bdist_wheel', 'build', 'install')):
        mode = 'copy'
    else:
        return
    mim_path = osp.join(ROOT, 'mmclipself', '.mim')
    os.makedirs(mim_path, exist_ok=True)
    for name in MIM_FILES:
        src = osp.join(ROOT, name)
        tar = osp.join(mim_path, name)
        if osp.islink(tar) or osp.isfile(tar):
            os.remove(tar)
        elif osp.isdir(tar):
            shutil.rmtree(tar)
        if mode == 'symlink':
            os.symlink(osp.relpath(src, mim_path), tar)
        elif osp.isdir(src):
            shutil.copytree(src, tar)
        else:
            shutil.copyfile(src, tar)


if __name__ == '__main__':
    add_mim_extension()
    setup(
        name='mmclipself-openmmlab',
        version=get_version(),
        description='CLIPSelf (ICLR 2024) for OpenMMLab: self-distilled CLIP '
        'ViTs for open-vocabulary detection and segmentation',
        long_description=readme(),
        long_description_content_type='text/markdown',
        keywords='open-vocabulary, CLIP, CLIPSelf, detection, segmentation',
        packages=find_packages(include=['mmclipself', 'mmclipself.*']),
        include_package_data=True,
        package_data={
            'mmclipself': ['.mim/**/*', '.mim/*', 'vocab/data/*.txt']
        },
        python_requires='>=3.9',
        classifiers=[
            'Programming Language :: Python :: 3',
            'Operating System :: OS Independent',
            'Topic :: Scientific/Engineering :: Artificial Intelligence',
        ],
        license='Apache License 2.0',
        install_requires=parse_requirements('runtime.txt', 'mminstall.txt'),
        extras_require={
            'tests': parse_requirements('tests.txt'),
            'optional': parse_requirements('optional.txt'),
        },
        zip_safe=False)
