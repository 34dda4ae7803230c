"""Which account features are *signals* with a known direction, and which only describe the account.

A customer-success manager reads a reason as "this is going wrong": a low CSAT, an open ticket, falling
usage. The features whose effect on churn risk is known in advance are :data:`SIGNALS`; each has a
direction (``+1``: more of it raises risk, ``-1``: more of it lowers risk) and, where the scale allows, a
line past which a value is bad in itself (a CSAT of 5 or an NPS of 10 never is). The churn model is
constrained to these directions (:class:`cxlens.models.churn.ChurnModel`, ``monotonic=True``) and a
reason may only cite a signal on its risk-raising side (:mod:`cxlens.models.reasons`).

Usage columns of the accounts table (``logins_30d``, ``active_users``, ``sessions``, ``usage_*``...)
are signals too (direction ``-1``), found by name (:func:`feature_direction`); a name that turns the
count around or hides its direction (``days_since_last_login``, ``failed_logins``, ``usage_drop_pct``)
is not one.

Everything else that comes from the accounts table (plan, MRR, seats, industry, region, contract...)
*describes* the account: the model may use it, but it is never a reason on its own
(:func:`is_descriptor`).
"""

from __future__ import annotations

import re
from dataclasses import dataclass

__all__ = ["BEHAVIOUR", "SIGNALS", "Signal", "feature_direction", "is_descriptor", "on_risk_side", "signal_for"]


@dataclass(frozen=True)
class Signal:
    """A feature with a known direction: ``+1`` more raises risk, ``-1`` more lowers it.

    ``bad_above`` / ``bad_below``: a value is on the risk-raising side only past this line (in the
    feature's own scale), whatever the peers do; ``None`` where only the peer comparison applies.
    ``constrain``: whether the model is constrained to ``direction`` (behaviour counts are not: their
    effect is not known in advance, they are only cited when high).
    """

    direction: int
    bad_above: float | None = None
    bad_below: float | None = None
    constrain: bool = True


#: Features with a known direction (the model is constrained to it).
SIGNALS: dict[str, Signal] = {
    "csat_mean_180d": Signal(-1, bad_below=4.0),            # 1-5; 4 and 5 count as satisfied
    "nps_mean_180d": Signal(-1, bad_below=7.0),             # 0-10; 0-6 are detractors
    "ces_mean_180d": Signal(+1, bad_above=4.0),             # 1-7; above the neutral 4 is high effort
    "negative_sentiment_share_90d": Signal(+1, bad_above=0.0),
    "sentiment_score_mean_90d": Signal(-1, bad_below=0.0),
    "unresolved_tickets": Signal(+1, bad_above=0.0),
    "sla_breaches_90d": Signal(+1, bad_above=0.0),
    "reopened_share_90d": Signal(+1, bad_above=0.0),
    "first_response_hours_median_90d": Signal(+1),
    "resolution_hours_median_90d": Signal(+1),
    "script_adherence_mean_90d": Signal(-1),
}
#: Contact behaviour: cited only when high against peers (or rising), never constrained in the model.
BEHAVIOUR: dict[str, Signal] = {
    "ticket_volume_90d": Signal(+1, constrain=False),
    "ticket_trend_30d": Signal(+1, bad_above=0.0, constrain=False),
    "customer_messages_90d": Signal(+1, constrain=False),
}
#: usage columns of the accounts table, by name: more use, less risk
_USAGE = re.compile(r"(^|_)(logins?|usage|active_users?|sessions?|dau|mau|wau|events|api_calls|feature_use)(_|$)",
                    re.IGNORECASE)
_USAGE_SIGNAL = Signal(-1, bad_above=None, bad_below=None)
#: words that turn a usage name around or make its direction unknown ("days_since_last_login",
#: "failed_logins", "usage_drop_pct"): such a column is not a usage signal (more of it is not more use)
_NOT_USAGE = re.compile(r"(^|_)(since|ago|failed|failures?|errors?|drop|declines?|decrease|fall|lost|"
                        r"inactive|idle|change|delta|trend|gap|without|no)(_|$)", re.IGNORECASE)
#: features computed from the event history that are neither signals nor descriptors (never reasons)
_NEUTRAL = frozenset({"days_since_last_ticket", "tenure_days"})


def signal_for(feature: str) -> Signal | None:
    """The :class:`Signal` of a feature, or ``None`` for one whose direction is not known."""
    if feature in SIGNALS:
        return SIGNALS[feature]
    if feature in BEHAVIOUR:
        return BEHAVIOUR[feature]
    if _USAGE.search(feature) and not _NOT_USAGE.search(feature):
        return _USAGE_SIGNAL
    return None


def feature_direction(feature: str) -> int:
    """``+1`` / ``-1`` for a feature the churn model is constrained on, ``0`` for a free one."""
    signal = signal_for(feature)
    return signal.direction if signal is not None and signal.constrain else 0


def is_descriptor(feature: str) -> bool:
    """A column that describes the account (plan, MRR, seats, region...): never a reason on its own."""
    return signal_for(feature) is None and feature not in _NEUTRAL


def on_risk_side(feature: str, value: float, peer: float | None) -> bool:
    """Whether ``value`` of ``feature`` lies on its risk-raising side: past the signal's own line when it
    has one (a CSAT below 4, an open ticket) and no better than the peer reference ``peer``; without a
    line, worse than ``peer`` by a margin."""
    signal = signal_for(feature)
    if signal is None:
        return False
    no_better = peer is None or (value >= peer if signal.direction > 0 else value <= peer)
    if signal.bad_above is not None:
        return value > signal.bad_above and no_better
    if signal.bad_below is not None:
        return value < signal.bad_below and no_better
    if peer is None:
        return False
    # worse than the peers by a margin: above 1.25x their median (more than none when it is 0), or below 0.8x
    return value > max(1.25 * peer, peer) if signal.direction > 0 else value < min(0.8 * peer, peer)
