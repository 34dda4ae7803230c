"""Estimated CSAT for every ticket, with its coverage, its measured calibration and whether to trust it.

:func:`estimated_csat` trains :class:`cxlens.models.csat.CsatModel` on the surveyed tickets and returns a
:class:`CsatEstimate`: the tickets with ``csat_good_probability`` (P(rating >= 4 of 5)),
``csat_estimated`` (the expected 1-5 rating) and ``csat_estimate_reasons`` (what lowers it), and the
evaluation on held-out surveyed tickets (the newest quarter by ``created_at``, the model trained on the
older ones): ROC-AUC for good vs bad, expected calibration error, Brier score, mean absolute error of the
score. The final model is then refitted on every surveyed ticket.

It says when it is not to be trusted: with fewer than ``min_rated`` surveyed tickets a month (or to
train on; Zendesk's satisfaction prediction asks for about 200 rated tickets a month), when the held-out ROC-AUC
is under 0.65, or when the calibration error is above 0.1. The KPI ``csat_estimated`` (in
:mod:`cxlens.metrics`) reads ``csat_good_probability``.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from cxlens.errors import DataError
from cxlens.models.csat import CsatModel, ticket_features

__all__ = ["CSAT_FILE", "CsatEstimate", "ESTIMATE_COLUMNS", "MIN_RATED", "calibration_error", "estimated_csat"]

log = logging.getLogger(__name__)
#: surveyed tickets a month (and to train on) before an estimate is trusted (Zendesk: about 200 a month)
MIN_RATED = 200
#: surveyed tickets a model is fitted on at most (a seeded sample above it; the held-out check too)
MAX_ROWS = 50_000
#: tickets estimated at a time (the model's preprocessing is dense: 100,000 rows x ~40 columns = 32 MB)
BATCH_ROWS = 100_000
#: below this many surveyed tickets no model is fitted at all
MIN_TO_FIT = 40
ESTIMATE_COLUMNS = ("csat_good_probability", "csat_estimated", "csat_estimate_reasons")
#: the file ``cxlens score`` writes the estimates to (ticket_id + ESTIMATE_COLUMNS; docs/score-output.md)
CSAT_FILE = "tickets_csat.parquet"


@dataclass
class CsatEstimate:
    """The estimate columns (``estimates``: ``ticket_id`` + :data:`ESTIMATE_COLUMNS`, one row per ticket in
    the order given), the model, and how far to trust it. ``tickets``: the tickets with the columns added
    (a copy, made when asked)."""

    source: pd.DataFrame = field(repr=False)
    estimates: pd.DataFrame
    model: CsatModel | None
    metrics: dict[str, Any] = field(default_factory=dict)
    trusted: bool = False
    note: str = ""

    @property
    def tickets(self) -> pd.DataFrame:
        return self.source.assign(**{c: self.estimates[c].to_numpy() for c in ESTIMATE_COLUMNS})


def calibration_error(y, p, *, bins: int = 10) -> float:
    """Expected calibration error: the mean |observed - predicted| rate over equal-count bins of ``p``,
    weighted by their size."""
    y = np.asarray(y, dtype=float)
    p = np.asarray(p, dtype=float)
    order = np.argsort(p, kind="stable")
    total = 0.0
    for part in np.array_split(order, min(bins, len(p))):
        if len(part):
            total += len(part) * abs(y[part].mean() - p[part].mean())
    return total / len(p)


def estimated_csat(tickets: pd.DataFrame, *, min_rated: int = MIN_RATED, holdout: float = 0.25,
                   good_threshold: float = 4.0, C: float = 0.5, max_rows: int = MAX_ROWS) -> CsatEstimate:
    """Estimate CSAT for every ticket from the surveyed ones; see the module docstring."""
    from sklearn.metrics import brier_score_loss, roc_auc_score

    if "csat" not in tickets:
        raise DataError("Estimated CSAT needs the tickets' csat column (the surveyed tickets' answers).")
    out = pd.DataFrame({"ticket_id": tickets["ticket_id"].to_numpy() if "ticket_id" in tickets else tickets.index},
                       index=tickets.index)
    for col in ESTIMATE_COLUMNS:
        out[col] = np.nan if col != "csat_estimate_reasons" else ""
    rated = pd.to_numeric(tickets["csat"], errors="coerce").notna().to_numpy()
    n_rated = int(rated.sum())
    metrics: dict[str, Any] = {"tickets": len(tickets), "surveyed": n_rated,
                               "surveyed_share": n_rated / len(tickets) if len(tickets) else None}
    months = _months(tickets)
    metrics["surveyed_per_month"] = n_rated / months if months else None
    if n_rated < MIN_TO_FIT:
        note = (f"Not estimated: only {n_rated} surveyed tickets (at least {MIN_TO_FIT} to fit a model, about "
                f"{min_rated} to trust one).")
        return CsatEstimate(source=tickets, estimates=out, model=None, metrics=metrics, trusted=False, note=note)
    features = ticket_features(tickets)
    X, y = features.loc[rated], pd.to_numeric(tickets.loc[rated, "csat"]).to_numpy(dtype=float)
    order = np.argsort(tickets.loc[rated, "created_at"].to_numpy(), kind="stable") if "created_at" in tickets \
        else np.arange(n_rated)
    cut = int(round(n_rated * (1 - holdout)))
    train, test = order[:cut][-max_rows:], order[cut:]  # the newest max_rows before the held-out quarter
    good = (y >= good_threshold).astype(int)
    if len(np.unique(good[train])) == 2 and len(np.unique(good[test])) == 2:
        held = CsatModel(C=C, good_threshold=good_threshold).fit(X.iloc[train], y[train])
        p = held.predict_proba(X.iloc[test])[:, 1]
        metrics.update({
            "holdout_tickets": len(test), "holdout_good_share": float(good[test].mean()),
            "holdout_roc_auc": float(roc_auc_score(good[test], p)),
            "holdout_calibration_error": float(calibration_error(good[test], p)),
            "holdout_brier": float(brier_score_loss(good[test], p)),
            "holdout_score_mae": float(np.abs(held.estimated_score(X.iloc[test]) - y[test]).mean()),
            "holdout_mean_estimate": float(p.mean()),
        })
    if n_rated > max_rows:  # a logistic model needs no more; keeps a million-ticket run quick
        keep = np.random.default_rng(0).choice(n_rated, size=max_rows, replace=False)
        X, y = X.iloc[keep], y[keep]
        metrics["fitted_on"] = max_rows
    model = CsatModel(C=C, good_threshold=good_threshold).fit(X, y)
    good_p, score, reasons = [], [], []
    for start in range(0, len(features), BATCH_ROWS):  # batches: the model's dense matrix stays small
        part = features.iloc[start:start + BATCH_ROWS]
        good_p.append(model.predict_proba(part)[:, 1])
        score.append(model.estimated_score(part))
        reasons += ["; ".join(r) for r in model.reasons(part)]
    if len(features):
        out["csat_good_probability"] = np.concatenate(good_p).round(4)
        out["csat_estimated"] = np.concatenate(score).round(2)
        out["csat_estimate_reasons"] = reasons
    metrics["coverage"] = float(out["csat_good_probability"].notna().mean()) if len(out) else None
    trusted, note = _verdict(metrics, min_rated=min_rated, n_train=len(train))
    log.info("estimated CSAT: %s", note)
    return CsatEstimate(source=tickets, estimates=out, model=model, metrics=metrics, trusted=trusted, note=note)


def _months(tickets: pd.DataFrame) -> float | None:
    if "created_at" not in tickets or not tickets["created_at"].notna().any():
        return None
    span = (tickets["created_at"].max() - tickets["created_at"].min()) / pd.Timedelta(days=30.4)
    return max(1.0, float(span))


def _verdict(metrics: dict[str, Any], *, min_rated: int, n_train: int) -> tuple[bool, str]:
    auc, ece = metrics.get("holdout_roc_auc"), metrics.get("holdout_calibration_error")
    if auc is None:
        return False, ("Not trustworthy: the held-out surveyed tickets lack good or bad ratings, so the estimate "
                       "could not be checked.")
    checked = f"held-out ROC-AUC {auc:.2f}, calibration error {ece:.3f} on {metrics['holdout_tickets']} tickets"
    problems = []
    per_month = metrics.get("surveyed_per_month")
    if n_train < min_rated or (per_month is not None and per_month < min_rated):
        problems.append(f"too few surveyed tickets: {metrics['surveyed']} ({per_month or 0:.0f} a month; Zendesk's "
                        f"satisfaction prediction asks for about {min_rated} rated tickets a month)")
    if auc < 0.65:
        problems.append("it separates good from bad ratings poorly")
    if ece > 0.1:
        problems.append("it is poorly calibrated")
    if problems:
        return False, f"Not trustworthy ({checked}): " + "; ".join(problems) + "."
    return True, f"Trusted: {checked}, trained on {n_train} surveyed tickets."
