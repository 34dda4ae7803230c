"""Snapshot tables (one row per account, a label column, no timestamps) just work: no --as-of, and
``accounts score --out`` takes the format from the extension or writes named files into a folder."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from cxlens.cli import main


@pytest.fixture(scope="module")
def snapshot(tmp_path_factory):
    """A Telco-like table: customerID, categories, numbers (one with blanks), a yes/no Churn column."""
    rng = np.random.default_rng(0)
    n = 300
    contract = rng.choice(["Month-to-month", "One year", "Two year"], n)
    tenure = rng.integers(1, 72, n)
    logit = -1.0 + 1.5 * (contract == "Month-to-month") - 0.04 * tenure
    churn = np.where(rng.random(n) < 1 / (1 + np.exp(-logit)), "Yes", "No")
    total = (tenure * 50.0).astype(str)
    total[:5] = " "  # blanks, as in IBM Telco's TotalCharges
    frame = pd.DataFrame({"customerID": [f"C{i:04d}" for i in range(n)], "Contract": contract, "tenure": tenure,
                          "TotalCharges": total, "Churn": churn})
    path = tmp_path_factory.mktemp("snapshot") / "train.csv"
    frame.to_csv(path, index=False)
    return path


def test_accounts_snapshot_trains_and_scores_without_a_date(snapshot, tmp_path, capsys):
    model = tmp_path / "model"
    assert main(["-q", "train", "churn", "--accounts", str(snapshot), "--map", "customerID=account_id",
                 "--label-col", "Churn", "--out", str(model), "--no-tracking"]) == 0
    card = (model / "model.json").read_text(encoding="utf-8")
    assert '"TotalCharges"' in card  # blanks are missing values, not a reason to drop the column
    out = tmp_path / "scored"
    assert main(["-q", "accounts", "score", "--accounts", str(snapshot), "--map", "customerID=account_id",
                 "--model", str(model), "--out", str(out)]) == 0
    table = pd.read_csv(out / "scored_accounts.csv")
    assert len(table) == 300 and table["churn_probability"].between(0, 1).all()
    assert table["at_risk"].sum() == 30  # the top decile by default
    assert table.loc[table["at_risk"], "churn_probability"].min() >= table.loc[~table["at_risk"],
                                                                              "churn_probability"].max()
    assert "Churn" not in capsys.readouterr().err
    fixed = tmp_path / "fixed.csv"
    assert main(["-q", "accounts", "score", "--accounts", str(snapshot), "--map", "customerID=account_id",
                 "--model", str(model), "--out", str(fixed), "--risk-threshold", "0.5"]) == 0
    again = pd.read_csv(fixed)
    assert again["at_risk"].sum() == int((again["churn_probability"] >= 0.5).sum())


@pytest.mark.parametrize("name, read", [("s.parquet", pd.read_parquet), ("s.json", pd.read_json),
                                        ("s.jsonl", lambda p: pd.read_json(p, lines=True)), ("s.csv", pd.read_csv)])
def test_accounts_snapshot_score_format_from_the_extension(snapshot, tmp_path, name, read):
    model = tmp_path / "model"
    assert main(["-q", "train", "churn", "--accounts", str(snapshot), "--map", "customerID=account_id",
                 "--label-col", "Churn", "--model", "logistic", "--out", str(model), "--no-tracking"]) == 0
    out = tmp_path / name
    assert main(["-q", "accounts", "score", "--accounts", str(snapshot), "--map", "customerID=account_id",
                 "--model", str(model), "--out", str(out)]) == 0
    assert len(read(out)) == 300


def test_accounts_snapshot_score_refuses_an_unknown_extension_before_work(snapshot, tmp_path, capsys):
    code = main(["-q", "accounts", "score", "--accounts", str(snapshot), "--map", "customerID=account_id",
                 "--model", str(tmp_path / "none"), "--out", str(tmp_path / "s.xlsx")])
    assert code != 0
    assert "unknown extension '.xlsx'" in capsys.readouterr().err
    assert not (tmp_path / "s.xlsx").exists()
