"""Which command-line flag sets which library parameter: how the CLI names options in error messages.

Library errors speak of parameters (``encoding='latin-1'``, see :class:`cxlens.errors.CxlensError`);
:func:`cxlens.cli.main` prints them with these flags (``--encoding latin-1``). A parameter's flag is
``--`` and its name with ``-`` for ``_`` unless :data:`FLAGS` says otherwise.
"""

from __future__ import annotations

from collections.abc import Iterable

__all__ = ["FLAGS", "flag", "flags_for"]

#: the parameters whose flag is not ``--`` + the name with ``-`` for ``_``
FLAGS = {
    "mapping": "--map",                      # every command that reads tables
    "horizon_days": "--horizon",             # cxlens train churn / accounts ...
    "fit_health_weights": "--fit-weights",   # cxlens accounts score / at-risk
    "fast_sentiment": "--fast",              # cxlens score (ScoreConfig)
    "kpi_config": "--config",                # cxlens score (ScoreConfig)
}


def flag(param: str) -> str:
    """The flag that sets ``param`` (``"as_of"`` -> ``"--as-of"``, ``"mapping"`` -> ``"--map"``)."""
    return FLAGS.get(param) or "--" + param.replace("_", "-")


def flags_for(params: Iterable[str]) -> dict[str, str]:
    """``{param: flag}`` for the parameters an error names (its ``params``)."""
    return {param: flag(param) for param in params}
