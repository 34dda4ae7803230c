"""Which accounts count as at risk: a rule relative to the portfolio's base rate, a top share, or a fixed line.

A calibrated churn probability of 0.3 means about 3 in 10 such accounts churn within the horizon. In a
portfolio where 5 % churn per quarter no account may reach 0.5, so a fixed 0.5 flags nobody. The rules:

* ``top`` (the default, ``value`` = 0.1): the ``value`` share of accounts with the highest probability
  (the top decile);
* ``relative`` (``value`` = 2): probability at least ``value`` x the base rate, the mean calibrated
  probability of the accounts scored (the share expected to churn);
* ``absolute`` (``value`` = a probability): ``--risk-threshold`` / ``[kpi] risk_threshold``.

The at-risk review picks, of the top decile and 2x the base rate, the rule that was more precise in its
back-test on past dates (:func:`cxlens.pipelines.accounts.risk_backtest`); without one it uses the top
decile, which always flags someone: on the bundled example archive, where a quarter of history gives
a cautious calibration, 2x the base rate flagged nobody on one of three past dates and was the less
precise rule, while on a 10,000-ticket archive it was the more precise one (docs/benchmarks.md,
"At-risk review (issue 23)").
:func:`precision_at` and :func:`rule_precision` are the back-test's measures.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from cxlens.errors import ConfigError

__all__ = ["DEFAULT_RISK_RULE", "RISK_RULE_KINDS", "RiskRule", "precision_at", "rule_precision"]

RISK_RULE_KINDS = ("relative", "top", "absolute")


@dataclass(frozen=True)
class RiskRule:
    """``kind`` one of :data:`RISK_RULE_KINDS`; ``value`` the multiple, the share or the probability."""

    kind: str = "top"
    value: float = 0.1

    def __post_init__(self) -> None:
        if self.kind not in RISK_RULE_KINDS:
            raise ConfigError(f"Unknown at-risk rule {self.kind!r}: use one of {', '.join(RISK_RULE_KINDS)}.")
        if self.kind == "relative" and not self.value > 0:
            raise ConfigError(f"A relative at-risk rule needs a multiple of the base rate > 0, got {self.value}.")
        if self.kind != "relative" and not 0 < self.value < 1:
            raise ConfigError(f"The at-risk rule {self.kind!r} needs a value between 0 and 1, got {self.value}; "
                              "e.g. --risk-threshold 0.3.")

    @classmethod
    def absolute(cls, probability: float) -> RiskRule:
        return cls("absolute", float(probability))

    def threshold(self, probability) -> float:
        """The probability at or above which an account is flagged, for these accounts' probabilities."""
        p = np.asarray(probability, dtype=float)
        p = p[~np.isnan(p)]
        if self.kind == "absolute":
            return self.value
        if not len(p):
            return float("nan")
        if self.kind == "relative":
            return float(self.value * p.mean())
        k = max(1, int(round(len(p) * self.value)))
        return float(np.sort(p)[::-1][k - 1])

    def flag(self, probability) -> np.ndarray:
        """A boolean mask: the accounts at risk (missing probabilities never are)."""
        p = np.asarray(probability, dtype=float)
        with np.errstate(invalid="ignore"):
            return p >= self.threshold(p)

    def describe(self, probability=None) -> str:
        """The rule in words, with its threshold for ``probability`` when given."""
        if self.kind == "absolute":
            return f"churn probability >= {self.value:g} (a fixed threshold)"
        if self.kind == "relative":
            text = f"churn probability at least {self.value:g}x the portfolio's base rate"
            if probability is not None:
                p = np.asarray(probability, dtype=float)
                base = float(np.nanmean(p)) if np.isfinite(p).any() else float("nan")
                text += f" ({base:.1%} expected to churn within the horizon, so >= {self.value * base:.1%})"
            return text
        text = f"the {self.value:.0%} of accounts with the highest churn probability"
        if probability is not None:
            text += f" (>= {self.threshold(probability):.1%})"
        return text


DEFAULT_RISK_RULE = RiskRule("top", 0.1)


def precision_at(y, probability, k: int) -> float | None:
    """Share of churners among the ``k`` accounts with the highest probability (None with fewer accounts)."""
    y = np.asarray(y, dtype=float)
    if len(y) < k or k < 1:
        return None
    top = np.argsort(-np.asarray(probability, dtype=float), kind="stable")[:k]
    return float(y[top].mean())


def rule_precision(y, probability, rule: RiskRule) -> tuple[int, float | None]:
    """(accounts flagged by ``rule``, share of them that churned)."""
    flagged = rule.flag(probability)
    n = int(flagged.sum())
    return n, float(np.asarray(y, dtype=float)[flagged].mean()) if n else None
