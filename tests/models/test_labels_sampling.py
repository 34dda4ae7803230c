"""Fitting the churn model on a sample of the accounts when the training set is large."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from cxlens.errors import ConfigError
from cxlens.models.labels import TrainingSet, sampled_by_account


def _data(accounts: int = 200, snapshots: int = 5) -> TrainingSet:
    ids = np.repeat([f"a{i}" for i in range(accounts)], snapshots)
    snaps = np.tile(pd.date_range("2026-01-01", periods=snapshots, freq="30D").to_numpy(), accounts)
    y = (np.arange(len(ids)) % 7 == 0).astype(int)
    X = pd.DataFrame({"x": np.arange(len(ids), dtype=float)})
    return TrainingSet(X=X, y=y, account_id=ids, snapshot=snaps, as_of=pd.Timestamp("2026-12-01", tz="UTC"),
                       horizon_days=90.0, label_col=None)


def test_sample_keeps_every_snapshot_of_the_chosen_accounts():
    data = _data()
    out = sampled_by_account(data, max_rows=300, seed=1)
    assert 250 <= len(out.y) <= 300 and len(out.X) == len(out.y) == len(out.account_id) == len(out.snapshot)
    chosen, counts = np.unique(out.account_id, return_counts=True)
    assert len(chosen) == 60 and (counts == 5).all()  # whole accounts: grouped and time folds still hold
    rows = out.X["x"].astype(int).to_numpy()  # the X row, label and snapshot of each kept row stay together
    assert (out.account_id == data.account_id[rows]).all() and (out.y == data.y[rows]).all()
    assert (out.snapshot == data.snapshot[rows]).all()
    again = sampled_by_account(data, max_rows=300, seed=1)
    assert (again.account_id == out.account_id).all()  # seeded
    assert set(sampled_by_account(data, max_rows=300, seed=2).account_id) != set(chosen)


def test_sample_leaves_small_sets_alone_and_refuses_a_bad_cap():
    data = _data(accounts=10)
    assert sampled_by_account(data, max_rows=50) is data
    assert sampled_by_account(data, max_rows=10_000) is data
    with pytest.raises(ConfigError, match="max_rows"):
        sampled_by_account(data, max_rows=0)


def test_train_churn_reports_the_rows_it_was_fitted_on(tmp_path):
    from cxlens.dataset import load_dataset
    from cxlens.example_data import write_example_archive
    from cxlens.pipelines.accounts import feature_tables, train_churn

    write_example_archive(tmp_path, n_tickets=400, seed=3, fmt="csv")
    tables = feature_tables(load_dataset(accounts=tmp_path / "accounts.csv", tickets=tmp_path / "tickets.csv"))
    full = train_churn(tables, horizon_days=90)
    cap = full.params["n_rows_available"] // 2
    capped = train_churn(tables, horizon_days=90, max_rows=cap)
    assert full.params["n_rows"] == full.params["n_rows_available"] == capped.params["n_rows_available"]
    assert capped.params["n_rows"] <= cap < full.params["n_rows"]
    assert capped.params["n_accounts"] < full.params["n_accounts"]
