# Copyright (c) mmclipself contributors. All rights reserved.
"""Up-front checks of a run's config that MMEngine's builders leave out.

MMEngine's builders already name the class and the argument when a module
or hook gets an unknown keyword (``class `CheckpointHook` in ...: __init__()
got an unexpected keyword argument 'intervall'``). What they cannot see is a
misspelt *top-level* key: ``Runner.from_cfg`` reads the keys it knows and
ignores every other one, because configs legitimately hold helper variables
(``data_root``, ``train_pipeline`` ...). A ``trian_cfg`` or ``laod_from`` is
then silently lost and the run trains with the defaults or from scratch.
"""
import difflib
import inspect
from typing import Iterable, List, Optional

from mmengine.config import Config
from mmengine.runner import Runner


class ConfigKeyError(ValueError):
    """A config key that would be silently ignored."""


# keys the Runner (or mmengine's entry points) read besides its arguments
EXTRA_KEYS = ('runner_type', 'custom_imports', 'launcher', '_base_',
              'model_wrapper_cfg', 'compile', 'strategy', 'tta_model',
              'tta_pipeline')

# Runner keys a helper variable is often named like (``models``,
# ``conv_cfg``), never suggested as what a key meant
NOT_SUGGESTED = ('model', 'env_cfg', 'tta_pipeline')


def runner_keys() -> List[str]:
    """The top-level keys MMEngine's ``Runner`` reads from a config."""
    params = inspect.signature(Runner.__init__).parameters
    return sorted(set(params) - {'self', 'cfg'} | set(EXTRA_KEYS))


def misspelt_keys(keys: Iterable[str],
                  known: Optional[Iterable[str]] = None,
                  cutoff: float = 0.8) -> List[tuple]:
    """``(key, known_key)`` pairs where ``key`` looks like a misspelling.

    A key is reported when it is not a known key and is at least
    ``cutoff`` similar (``difflib`` ratio) to one: the config most likely
    meant the known key (often set by a base config, which the misspelt
    override then fails to change). Keys starting with ``_`` and
    extensions of a known key (``val_evaluator_full``) are skipped, and
    :data:`NOT_SUGGESTED` keys are never proposed.

    Args:
        keys: The config's top-level keys.
        known: The keys the Runner reads; default :func:`runner_keys`.
        cutoff: Similarity threshold (0.8 catches one or two swapped,
            missing or extra letters in keys of 7+ characters).
    """
    keys = list(keys)
    known = list(known) if known is not None else runner_keys()
    targets = [k for k in known if k not in NOT_SUGGESTED]
    pairs = []
    for key in keys:
        if key in known or key.startswith('_') or any(
                key.startswith(k + '_') for k in known):
            continue  # a known key, private, or an extension (val_cfg_x)
        close = difflib.get_close_matches(key, targets, n=1, cutoff=cutoff)
        if close:
            pairs.append((key, close[0]))
    return pairs


def check_config_keys(cfg: Config) -> None:
    """Raise on a top-level key that is a misspelling of a Runner key.

    Raises:
        ConfigKeyError: Naming the config file, the key and the key it most
            likely means.
    """
    pairs = misspelt_keys(cfg.keys())
    if not pairs:
        return
    where = getattr(cfg, 'filename', None) or 'the config'
    lines = ', '.join(f'{k!r} (did you mean {m!r}?)' for k, m in pairs)
    raise ConfigKeyError(
        f'{where}: unknown top-level key {lines}. MMEngine\'s Runner '
        'ignores keys it does not know, so this setting would be silently '
        'lost; rename it (or prefix a helper variable with "_").')
