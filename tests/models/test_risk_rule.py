"""The at-risk rule: top share, relative to the base rate, or absolute; the back-test's measures."""

from __future__ import annotations

import numpy as np
import pytest

from cxlens.errors import ConfigError
from cxlens.models.risk import DEFAULT_RISK_RULE, RiskRule, precision_at, rule_precision

P = np.array([0.30, 0.20, 0.12, 0.08, 0.05, 0.04, 0.03, 0.02, 0.01, 0.01, np.nan])


def test_risk_rule_relative_flags_twice_the_base_rate():
    rule = RiskRule("relative", 2.0)
    base = np.nanmean(P)
    assert rule.threshold(P) == pytest.approx(2 * base)
    assert rule.flag(P).tolist() == [p >= 2 * base for p in P[:-1]] + [False]
    assert "2x the portfolio's base rate" in rule.describe(P) and f"{base:.1%}" in rule.describe(P)


def test_risk_rule_top_decile_always_flags_someone_even_when_every_probability_is_low():
    low = np.linspace(0.001, 0.05, 200)
    assert DEFAULT_RISK_RULE == RiskRule("top", 0.1)
    flagged = DEFAULT_RISK_RULE.flag(low)
    assert flagged.sum() == 20 and low[flagged].min() > low[~flagged].max()
    assert RiskRule.absolute(0.5).flag(low).sum() == 0  # the old default flags nobody here


def test_risk_rule_absolute_and_bad_values():
    assert RiskRule.absolute(0.1).flag(P).sum() == 3
    for kind, value in (("absolute", 1.5), ("top", 0.0), ("relative", -1.0)):
        with pytest.raises(ConfigError):
            RiskRule(kind, value)
    with pytest.raises(ConfigError, match="Unknown at-risk rule"):
        RiskRule("median", 0.5)


def test_risk_precision_at_k_and_rule_precision():
    y = np.array([1, 0, 1, 0, 0, 0, 0, 0, 0, 1])
    p = np.array([0.9, 0.8, 0.7, 0.1, 0.1, 0.1, 0.1, 0.1, 0.1, 0.05])
    assert precision_at(y, p, 2) == 0.5 and precision_at(y, p, 3) == pytest.approx(2 / 3)
    assert precision_at(y, p, 20) is None
    assert rule_precision(y, p, RiskRule("top", 0.2)) == (2, 0.5)
    assert rule_precision(y, p, RiskRule.absolute(0.95)) == (0, None)


def test_risk_rule_config_threshold_must_be_a_probability():
    from cxlens.config import load_config

    assert load_config(None).risk_threshold is None and load_config(None, risk_threshold=0.3).risk_threshold == 0.3
    for bad in (0.0, 1.0, 1.5, "0.3", True):
        with pytest.raises(ConfigError, match="risk_threshold"):
            load_config(None, risk_threshold=bad)
