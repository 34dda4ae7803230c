"""Churn labels and the point-in-time training set.

Two ways to say who churned:

* **horizon** (``--horizon 90d``): an account active at snapshot date ``t``
  is positive when its ``churned_at`` falls in ``[t, t + horizon)``.  A label is
  known only once its window has closed, so every training snapshot satisfies
  ``t + horizon <= as_of``.  Snapshots step back from ``as_of - horizon``
  every ``step_days`` while there is history: one row per (account, snapshot),
  its features computed at ``t`` (:func:`cxlens.models.features.build_features`).
* **label column** (``--label-col churned``): a 0/1 or yes/no column of the
  accounts table, features computed at ``as_of`` (one snapshot).

:func:`time_splits` gives the validation folds for the horizon case: train on
snapshots whose label windows closed before the validation snapshot
(``t_train + horizon <= t_val``), validate on that later snapshot.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

import numpy as np
import pandas as pd

from cxlens.config import SLAPolicy
from cxlens.errors import ConfigError, ConfigProblem, DataError, InvalidConfigError
from cxlens.models.features import FeatureTables, active_accounts, as_utc, build_features, default_as_of

__all__ = ["TrainingSet", "label_from_column", "parse_horizon", "sampled_by_account", "snapshot_dates", "time_splits",
           "training_set"]

TRUE_WORDS = frozenset({"1", "1.0", "true", "t", "yes", "y", "churned", "churn"})
FALSE_WORDS = frozenset({"0", "0.0", "false", "f", "no", "n", "active", "retained"})


@dataclass
class TrainingSet:
    """Features ``X`` (one row per account and snapshot), labels ``y`` and where each row comes from."""

    X: pd.DataFrame
    y: np.ndarray
    account_id: np.ndarray
    snapshot: np.ndarray          # datetime64 snapshot date of each row
    as_of: pd.Timestamp
    horizon_days: float | None
    label_col: str | None


def parse_horizon(text: str | int | float) -> float:
    """``"90d"``, ``"12w"``, ``"3m"`` (30-day months) or a number of days -> days."""
    if isinstance(text, (int, float)):
        days = float(text)
    else:
        raw = str(text).strip().lower()
        units = {"d": 1.0, "w": 7.0, "m": 30.0, "y": 365.0}
        try:
            days = float(raw[:-1]) * units[raw[-1]] if raw[-1] in units else float(raw)
        except (ValueError, IndexError):
            raise InvalidConfigError([ConfigProblem("horizon_days", text, "is not a duration; use e.g. 90d, 12w "
                                                    "or 3m.")]) from None
    if days <= 0:
        raise InvalidConfigError([ConfigProblem("horizon_days", text, "must be positive.")])
    return days


def label_from_column(accounts: pd.DataFrame, column: str) -> pd.Series:
    """A 0/1 label from an accounts column (bool, 0/1, yes/no, churned/active), indexed by account_id."""
    if column not in accounts:
        raise DataError(f"The accounts table has no label column {column!r}. "
                        f"Columns: {', '.join(map(str, accounts.columns))}.")
    raw = accounts[column]
    words = raw.astype("string").str.strip().str.lower()
    label = pd.Series(np.nan, index=accounts.index)
    label[words.isin(TRUE_WORDS).fillna(False).to_numpy()] = 1.0
    label[words.isin(FALSE_WORDS).fillna(False).to_numpy()] = 0.0
    unknown = raw.notna() & label.isna()
    if unknown.any():
        examples = ", ".join(map(repr, raw[unknown].astype(str).unique()[:5]))
        raise DataError(f"Label column {column!r} has values that are not yes/no or 0/1: {examples}.")
    return label.set_axis(accounts["account_id"].to_numpy())


def _history_start(tables: FeatureTables) -> pd.Timestamp | None:
    starts = []
    if tables.tickets is not None and "created_at" in tables.tickets and tables.tickets["created_at"].notna().any():
        starts.append(tables.tickets["created_at"].min())
    if "signup_at" in tables.accounts and tables.accounts["signup_at"].notna().any():
        starts.append(tables.accounts["signup_at"].min())
    return min(starts) if starts else None


def snapshot_dates(tables: FeatureTables, *, as_of: pd.Timestamp, horizon_days: float, step_days: float = 30.0,
                   max_snapshots: int = 12, min_history_days: float = 30.0) -> list[pd.Timestamp]:
    """Snapshot dates, newest first: ``as_of - horizon``, then every ``step_days`` back while there is history."""
    start = _history_start(tables)
    latest = as_of - pd.Timedelta(days=horizon_days)
    dates = []
    for k in range(max_snapshots):
        t = latest - pd.Timedelta(days=step_days * k)
        if start is not None and t < start + pd.Timedelta(days=min_history_days):
            break
        dates.append(t)
    if not dates:
        raise DataError(
            f"Not enough history for a {horizon_days:g}-day churn horizon before {as_of:%Y-%m-%d}: "
            "the label window must close before the prediction date. Use a shorter {horizon_days}, "
            "a later {as_of}, or {label_col}.", params=("horizon_days", "as_of", "label_col")
        )
    return dates


def training_set(tables: FeatureTables, *, horizon_days: float | None = None, label_col: str | None = None,
                 as_of: str | pd.Timestamp | None = None, step_days: float = 30.0, max_snapshots: int = 12,
                 sla: SLAPolicy | None = None) -> TrainingSet:
    """Build ``X, y`` for training (see the module docstring). Exactly one of horizon/label_col."""
    if (horizon_days is None) == (label_col is None):
        if label_col is None:
            problem = ConfigProblem("horizon_days", None, "give it (churned within so many days after a snapshot) "
                                                          "or {label_col} (an accounts column saying who churned).")
        else:
            problem = ConfigProblem("label_col", label_col, "cannot be combined with {horizon_days}: give one of them.")
        raise InvalidConfigError([problem], params=("horizon_days", "label_col"))
    as_of = default_as_of(tables) if as_of is None else as_utc(as_of)
    accounts = tables.accounts
    frames, labels, snaps = [], [], []
    if label_col is not None:
        label = label_from_column(accounts, label_col)
        population = accounts
        if "signup_at" in accounts:
            population = accounts.loc[~(accounts["signup_at"] >= as_of).fillna(False).astype(bool)]
        X = build_features(tables, as_of=as_of, sla=sla, exclude=(label_col,), population=population)
        y = label.reindex(X.index)
        keep = y.notna().to_numpy()
        frames.append(X.loc[keep])
        labels.append(y.to_numpy()[keep])
        snaps.append(np.full(int(keep.sum()), as_of.to_datetime64()))
    else:
        if "churned_at" not in accounts:
            raise DataError("{horizon_days} needs the accounts' churned_at column (empty while active); "
                            "or give {label_col}, a churned yes/no column.", params=("horizon_days", "label_col"))
        for t in snapshot_dates(tables, as_of=as_of, horizon_days=horizon_days, step_days=step_days,
                                max_snapshots=max_snapshots):
            population = active_accounts(accounts, as_of=t)
            if not len(population):
                continue
            X = build_features(tables, as_of=t, sla=sla, population=population)
            churned = population.set_index("account_id")["churned_at"].reindex(X.index)
            end = t + pd.Timedelta(days=horizon_days)
            y = ((churned >= t) & (churned < end)).fillna(False).astype(float).to_numpy()
            frames.append(X)
            labels.append(y)
            snaps.append(np.full(len(X), t.to_datetime64()))
    if not frames:
        raise DataError("No training rows: no account was active at any snapshot date.")
    X = pd.concat(frames, axis=0)
    y = np.concatenate(labels).astype(int)
    if len(np.unique(y)) < 2:
        what = f"column {label_col!r}" if label_col else f"the {horizon_days:g}-day horizon"
        raise DataError(f"Every training row has the same label under {what}; a churn model needs "
                        "both churned and retained accounts.")
    account_id = X.index.to_numpy().astype(str)
    return TrainingSet(X=X.reset_index(drop=True), y=y, account_id=account_id, snapshot=np.concatenate(snaps),
                       as_of=as_of, horizon_days=horizon_days, label_col=label_col)


def time_splits(snapshot: np.ndarray, y: np.ndarray, *, horizon_days: float, n_folds: int = 3,
                min_train: int = 30) -> list[tuple[np.ndarray, np.ndarray]]:
    """Rolling-origin folds: validate on a snapshot, train on snapshots whose labels closed before it.

    Returns up to ``n_folds`` (train_idx, val_idx) pairs, newest first; folds
    whose train or validation part lacks a class, or with fewer than
    ``min_train`` training rows, are skipped (an empty list means: not
    enough history for a time split).
    """
    dates = pd.to_datetime(snapshot)
    gap = pd.Timedelta(days=horizon_days)
    folds = []
    for t_val in sorted(set(dates), reverse=True):
        val = np.flatnonzero(dates == t_val)
        train = np.flatnonzero(dates + gap <= t_val)
        if len(train) < min_train or len(np.unique(y[train])) < 2 or len(np.unique(y[val])) < 2:
            continue
        folds.append((train, val))
        if len(folds) == n_folds:
            break
    return folds


def sampled_by_account(data: TrainingSet, *, max_rows: int, seed: int = 0) -> TrainingSet:
    """``data`` cut to about ``max_rows`` rows: every row of a seeded random subset of the accounts.

    An account keeps all its snapshots, so folds grouped by account and time-aware folds hold as before.
    ``data`` comes back unchanged when it is no larger, or when the sample would lack a class.
    """
    if max_rows < 1:
        raise ConfigError(f"max_rows must be >= 1, got {max_rows}.")
    if len(data.y) <= max_rows:
        return data
    accounts = np.unique(data.account_id)
    n = max(1, int(len(accounts) * max_rows / len(data.y)))
    chosen = np.random.default_rng(seed).choice(accounts, size=n, replace=False)
    keep = np.isin(data.account_id, chosen)
    if len(np.unique(data.y[keep])) < 2:
        return data
    return replace(data, X=data.X.loc[keep].reset_index(drop=True), y=data.y[keep],
                   account_id=data.account_id[keep], snapshot=data.snapshot[keep])
