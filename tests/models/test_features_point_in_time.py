"""Account features are point-in-time: a feature computed at d never sees rows after d."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from cxlens.errors import DataError
from cxlens.models.features import FeatureTables, build_features, unresolved_tickets
from cxlens.models.labels import time_splits, training_set

UTC = "UTC"
D = pd.Timestamp("2025-06-01", tz=UTC)


def _tables(seed: int = 0, n_accounts: int = 12, n_tickets: int = 400) -> FeatureTables:
    rng = np.random.default_rng(seed)
    start = pd.Timestamp("2025-01-01", tz=UTC)
    ids = [f"A{i:03d}" for i in range(n_accounts)]
    accounts = pd.DataFrame({
        "account_id": ids,
        "signup_at": [start - pd.Timedelta(days=int(d)) for d in rng.integers(10, 300, n_accounts)],
        "churned_at": [start + pd.Timedelta(days=int(d)) if rng.random() < 0.4 else pd.NaT
                       for d in rng.integers(30, 330, n_accounts)],
        "mrr": rng.uniform(10, 500, n_accounts),
        "plan": rng.choice(["starter", "pro"], n_accounts),
    })
    created = start + pd.to_timedelta(rng.uniform(0, 330, n_tickets), unit="D")
    frt = created + pd.to_timedelta(rng.exponential(10, n_tickets), unit="h")
    resolved = created + pd.to_timedelta(rng.exponential(60, n_tickets), unit="h")
    tickets = pd.DataFrame({
        "ticket_id": [f"T{i:04d}" for i in range(n_tickets)],
        "account_id": rng.choice(ids, n_tickets),
        "created_at": created,
        "channel": rng.choice(["email", "chat"], n_tickets),
        "first_response_at": frt,
        "resolved_at": pd.Series(resolved).where(rng.random(n_tickets) < 0.9),
        "reopened": pd.array(rng.random(n_tickets) < 0.1, dtype="boolean"),
        "csat": np.where(rng.random(n_tickets) < 0.5, rng.integers(1, 6, n_tickets), np.nan),
        "sentiment": rng.choice(["negative", "neutral", "positive"], n_tickets),
        "sentiment_score": rng.uniform(-1, 1, n_tickets),
        "script_adherence": rng.uniform(40, 100, n_tickets),
    })
    messages = pd.DataFrame({
        "ticket_id": np.repeat(tickets["ticket_id"].to_numpy(), 2),
        "sent_at": np.repeat(created, 2) + pd.to_timedelta(np.tile([0, 5], n_tickets), unit="h"),
        "author_role": np.tile(["customer", "customer"], n_tickets),
    })
    surveys = pd.DataFrame({
        "kind": rng.choice(["nps", "ces"], 150),
        "score": rng.integers(1, 8, 150).astype(float),
        "responded_at": start + pd.to_timedelta(rng.uniform(0, 330, 150), unit="D"),
        "account_id": rng.choice(ids, 150),
    })
    return FeatureTables(accounts=accounts, tickets=tickets, messages=messages, surveys=surveys)


def _scramble_future(tables: FeatureTables, d: pd.Timestamp, seed: int) -> FeatureTables:
    """Change everything that happens at or after d; what was knowable before d stays."""
    rng = np.random.default_rng(seed)
    t = tables.tickets.copy()
    future = t["created_at"] >= d
    t.loc[future, "account_id"] = rng.choice(t["account_id"].unique(), int(future.sum()))
    t.loc[future, "sentiment"] = "negative"
    late_resolution = t["resolved_at"] >= d
    t.loc[late_resolution, "resolved_at"] = t.loc[late_resolution, "resolved_at"] + pd.Timedelta(days=3)
    t.loc[late_resolution, "csat"] = 1.0
    t.loc[late_resolution, "reopened"] = True
    t.loc[late_resolution, "script_adherence"] = 0.0
    late_reply = t["first_response_at"] >= d
    t.loc[late_reply, "first_response_at"] = t.loc[late_reply, "first_response_at"] + pd.Timedelta(hours=7)
    extra = t.iloc[:25].copy()
    extra["ticket_id"] = [f"X{i}" for i in range(len(extra))]
    extra["created_at"] = d + pd.Timedelta(hours=1)
    extra["first_response_at"] = d + pd.Timedelta(hours=2)
    extra["resolved_at"] = d + pd.Timedelta(hours=3)
    t = pd.concat([t, extra], ignore_index=True)
    m = tables.messages.copy()
    m = m.loc[m["sent_at"] < d]
    m = pd.concat([m, pd.DataFrame({"ticket_id": extra["ticket_id"], "sent_at": d + pd.Timedelta(hours=2),
                                    "author_role": "customer"})], ignore_index=True)
    s = tables.surveys.copy()
    s.loc[s["responded_at"] >= d, "score"] = 0.0
    return FeatureTables(accounts=tables.accounts, tickets=t, messages=m, surveys=s)


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_features_point_in_time_ignore_rows_after_as_of(seed):
    tables = _tables(seed)
    before = build_features(tables, as_of=D)
    after = build_features(_scramble_future(tables, D, seed), as_of=D)
    assert list(before.columns) == list(after.columns)
    assert {"ticket_volume_90d", "negative_sentiment_share_90d", "unresolved_tickets", "csat_mean_180d",
            "nps_mean_180d", "sla_breaches_90d", "customer_messages_90d", "tenure_days"} <= set(before.columns)
    pd.testing.assert_frame_equal(before, after)


def test_features_point_in_time_change_when_history_changes():
    """The test above has teeth: changing a row *before* d does change the features."""
    tables = _tables(0)
    t = tables.tickets.copy()
    t.loc[t["created_at"] < D, "sentiment"] = "negative"
    changed = build_features(FeatureTables(tables.accounts, t, tables.messages, tables.surveys), as_of=D)
    original = build_features(tables, as_of=D)
    assert not changed["negative_sentiment_share_90d"].equals(original["negative_sentiment_share_90d"])


def test_features_unresolved_counts_tickets_solved_after_as_of():
    tickets = pd.DataFrame({
        "account_id": ["A", "A", "A"],
        "created_at": pd.to_datetime(["2025-05-01", "2025-05-20", "2025-06-02"], utc=True),
        "resolved_at": pd.to_datetime(["2025-05-02", "2025-06-10", None], utc=True),
    })
    assert unresolved_tickets(tickets, as_of=D)["A"] == 1.0  # solved after d: still open at d; created after d: unseen


def test_features_population_excludes_churned_and_future_accounts():
    tables = _tables(0)
    feats = build_features(tables, as_of=D)
    acc = tables.accounts.set_index("account_id")
    assert not (acc.loc[feats.index, "churned_at"] < D).any()
    assert (acc.loc[feats.index, "signup_at"] < D).all()


def test_features_accounts_without_usable_feature_raise_data_error():
    accounts = pd.DataFrame({"account_id": ["A1", "A2", "A3"]})
    with pytest.raises(DataError, match="No usable feature"):
        build_features(FeatureTables(accounts=accounts), as_of=D)
    with pytest.raises(DataError, match="No usable feature"):
        training_set(FeatureTables(accounts=accounts.assign(churned=[1, 0, 1])), label_col="churned", as_of=D)


def test_features_label_like_columns_are_never_features():
    accounts = pd.DataFrame({"account_id": ["A1", "A2"], "is_churned": [True, False], "seats": [3.0, 5.0]})
    feats = build_features(FeatureTables(accounts=accounts), as_of=D)
    assert list(feats.columns) == ["seats"]


def test_training_set_labels_only_use_closed_windows_and_time_splits_keep_the_gap():
    tables = _tables(0, n_accounts=40, n_tickets=600)
    as_of = pd.Timestamp("2025-11-20", tz=UTC)
    data = training_set(tables, horizon_days=60, as_of=as_of, step_days=30)
    snaps = pd.to_datetime(data.snapshot, utc=True)
    assert (snaps + pd.Timedelta(days=60) <= as_of).all()
    for train, val in time_splits(data.snapshot, data.y, horizon_days=60, min_train=5):
        assert (snaps[train] + pd.Timedelta(days=60) <= snaps[val].min()).all()
