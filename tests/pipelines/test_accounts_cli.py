"""``cxlens train churn`` and ``cxlens accounts score | at-risk`` end to end on a tiny generated archive."""

from __future__ import annotations

import json

import pandas as pd
import pytest

from cxlens.cli import main


@pytest.fixture(scope="module")
def archive(tmp_path_factory):
    from cxlens.example_data import write_example_archive

    folder = tmp_path_factory.mktemp("archive")
    write_example_archive(folder, n_tickets=400, seed=3, fmt="csv")
    return folder


def _inputs(folder) -> list[str]:
    return ["--accounts", str(folder / "accounts.csv"), "--tickets", str(folder / "tickets.csv"),
            "--messages", str(folder / "messages.csv"), "--surveys", str(folder / "surveys.csv")]


def test_accounts_cli_at_risk_writes_a_self_contained_page(archive, tmp_path):
    out = tmp_path / "review"
    assert main(["-q", "accounts", "at-risk", *_inputs(archive), "--out", str(out), "--top", "10"]) == 0
    page = (out / "at_risk.html").read_text(encoding="utf-8")
    assert "http" not in page
    assert "<script" not in page and "<link" not in page and "src=" not in page
    for words in ("At-risk accounts", "Summary", "Retention and revenue", "churn_rate", "net_revenue_retention",
                  "Ranked accounts", "<svg"):
        assert words in page
    table = pd.read_csv(out / "at_risk.csv")
    for col in ("rank", "account_id", "churn_probability", "health_score", "health_band", "mrr_at_risk",
                "reason_1", "reason_2", "reason_3", "recent_problem_tickets"):
        assert col in table
    assert table["churn_probability"].is_monotonic_decreasing
    assert table["health_band"].isin(["good", "average", "poor"]).all()
    summary = json.loads((out / "summary.json").read_text(encoding="utf-8"))
    assert summary["retention"]["churn_rate"] is not None
    assert summary["model"]["validation"].startswith(("time", "grouped-kfold"))


def test_accounts_cli_train_then_score_from_a_folder(archive, tmp_path):
    model_dir = tmp_path / "model"
    assert main(["-q", "train", "churn", *_inputs(archive), "--horizon", "90d", "--out", str(model_dir),
                 "--no-tracking"]) == 0
    assert (model_dir / "churn_model.json").exists() and (model_dir / "calibration.png").exists()
    assert not (model_dir / "model.joblib").exists()  # saved without pickle
    card = json.loads((model_dir / "model.json").read_text(encoding="utf-8"))
    assert card["params"]["horizon_days"] == 90 and card["metrics"]["brier"] < 0.25
    scored = tmp_path / "scored.csv"
    assert main(["-q", "accounts", "score", *_inputs(archive), "--model", str(model_dir), "--out", str(scored),
                 "--fit-weights"]) == 0
    table = pd.read_csv(scored)
    assert len(table) and table["churn_probability"].between(0, 1).all()
    assert table["health_score"].between(0, 100).all()


def test_accounts_cli_label_column_and_clear_errors(archive, tmp_path, capsys):
    assert main(["-q", "train", "churn", "--accounts", str(archive / "accounts.csv"), "--tickets",
                 str(archive / "tickets.csv"), "--label-col", "is_churned", "--as-of", "2025-09-01",
                 "--out", str(tmp_path / "m"), "--no-tracking"]) == 0
    bare = tmp_path / "bare.csv"
    bare.write_text("account_id,is_churned\nA1,yes\nA2,no\nA3,no\n", encoding="utf-8")
    code = main(["-q", "train", "churn", "--accounts", str(bare), "--label-col", "is_churned",
                 "--as-of", "2025-09-01", "--out", str(tmp_path / "m2"), "--no-tracking"])
    assert code == 2
    assert "No usable feature" in capsys.readouterr().err


def test_accounts_cli_train_logs_to_mlflow_and_scores_the_champion(archive, tmp_path):
    pytest.importorskip("mlflow")
    store = tmp_path / "mlruns"
    assert main(["-q", "train", "churn", *_inputs(archive), "--horizon", "90d", "--out", str(tmp_path / "m"),
                 "--tracking-uri", str(store)]) == 0
    scored = tmp_path / "scored.csv"
    # an MLflow model is a pickle: it is loaded only when trusted
    assert main(["-q", "accounts", "score", *_inputs(archive), "--model", "models:/cxlens-churn@champion",
                 "--tracking-uri", str(store), "--out", str(scored)]) == 2
    assert not scored.exists()
    assert main(["-q", "accounts", "score", *_inputs(archive), "--model", "models:/cxlens-churn@champion",
                 "--tracking-uri", str(store), "--out", str(scored), "--trust-model"]) == 0
    assert len(pd.read_csv(scored))
