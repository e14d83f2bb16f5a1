# Copyright (c) mmclipself contributors. All rights reserved.
"""Environment report for bug reports and set-up checks."""
from typing import Dict

from mmengine.utils import get_git_hash
from mmengine.utils.dl_utils import collect_env as collect_base_env


def collect_env() -> Dict[str, str]:
    """Collect versions of the stack and whether mmcv's ops are compiled.

    Returns:
        An ordered mapping from item to value (MMEngine's report plus the
        OpenMMLab, CLIP and mmclipself versions and the mmcv ops status).
    """
    import mmcv
    import mmdet
    import open_clip
    import timm

    import mmclipself
    from mmclipself.utils.dependency import WITH_MMSEG

    env_info = dict(collect_base_env())
    env_info['MMCV'] = mmcv.__version__
    try:
        from mmcv.ops import get_compiler_version, get_compiling_cuda_version
        env_info['MMCV ops'] = (f'compiled with {get_compiler_version()}, '
                                f'CUDA {get_compiling_cuda_version()}')
    except ImportError as e:
        env_info['MMCV ops'] = f'NOT AVAILABLE ({e})'
    env_info['MMDetection'] = mmdet.__version__
    if WITH_MMSEG:
        import mmseg
        env_info['MMSegmentation'] = mmseg.__version__
    else:
        env_info['MMSegmentation'] = 'not installed'
    env_info['open_clip'] = open_clip.__version__
    env_info['timm'] = timm.__version__
    env_info['mmclipself'] = (
        mmclipself.__version__ + '+' + get_git_hash(digits=7))
    return env_info
