"""Estimated CSAT on an archive: held-out quality, coverage, the KPI, when not to trust it, the CLI and
the satisfaction page showing surveyed and estimated CSAT side by side."""

from __future__ import annotations

import dataclasses
import json

import numpy as np
import pandas as pd
import pytest

from cxlens.cli import main
from cxlens.metrics import compute_kpis, make_tables
from cxlens.pipelines.csat import calibration_error, estimated_csat


@pytest.fixture(scope="module")
def archive(tmp_path_factory):
    from cxlens.example_data import write_example_archive

    folder = tmp_path_factory.mktemp("csat")
    write_example_archive(folder, n_tickets=3000, seed=5, fmt="csv")
    return folder


@pytest.fixture(scope="module")
def estimate(archive):
    from cxlens.dataset import load_dataset

    return estimated_csat(load_dataset(tickets=archive / "tickets.csv").tickets)


def test_csat_estimate_held_out_quality_and_coverage(estimate):
    m = estimate.metrics
    assert m["holdout_roc_auc"] > 0.6 and m["holdout_calibration_error"] < 0.1
    assert m["coverage"] == 1.0 and 0 < m["surveyed_share"] < 0.5
    t = estimate.tickets
    assert t["csat_good_probability"].between(0, 1).all() and t["csat_estimated"].between(1, 5).all()
    # a 3,000-ticket year has about 70 surveyed tickets a month: it must say it is not to be trusted
    assert not estimate.trusted and "Zendesk" in estimate.note and "a month" in estimate.note


def test_csat_estimate_kpi_beside_csat(estimate):
    t = estimate.tickets
    report = compute_kpis(make_tables(tickets=t), names=["csat", "csat_estimated"])
    assert report.kpis["csat_estimated"] == pytest.approx(100 * t["csat_good_probability"].mean())
    # calibrated: on the surveyed tickets the estimate is close to the surveyed CSAT
    rated = t.loc[t["csat"].notna()]
    assert abs(100 * rated["csat_good_probability"].mean() - report.kpis["csat"]) < 5


def test_csat_estimate_refuses_with_too_few_surveyed_tickets(estimate):
    few = estimate.tickets.drop(columns=["csat_good_probability", "csat_estimated", "csat_estimate_reasons"])
    rated = few.index[few["csat"].notna()]
    few.loc[rated[20:], "csat"] = np.nan
    result = estimated_csat(few)
    assert result.model is None and not result.trusted and result.note.startswith("Not estimated: only 20")
    assert result.tickets["csat_good_probability"].isna().all()


def test_csat_calibration_error_known_values():
    assert calibration_error([0, 1, 0, 1], [0.5, 0.5, 0.5, 0.5], bins=1) == pytest.approx(0.0)
    assert calibration_error([1, 1, 1, 1], [0.5, 0.5, 0.5, 0.5], bins=2) == pytest.approx(0.5)


def test_csat_cli_writes_estimates_and_the_satisfaction_page_shows_both(archive, tmp_path, dashboard_score_dir):
    out = tmp_path / "est"
    assert main(["-q", "csat", "estimate", "--tickets", str(archive / "tickets.csv"), "--out", str(out)]) == 0
    table = pd.read_csv(out / "tickets_csat.csv")
    assert {"ticket_id", "csat", "csat_good_probability", "csat_estimated"} <= set(table.columns)
    summary = json.loads((out / "csat_estimate.json").read_text(encoding="utf-8"))
    assert summary["trusted"] is False and summary["holdout_roc_auc"] > 0.6

    from cxlens.pipelines.dashboard import DashboardSettings, dashboard_page
    from cxlens.pipelines.score import read_scored

    scored = read_scored(dashboard_score_dir)
    plain = dashboard_page("customer_satisfaction", scored, settings=DashboardSettings())
    assert not any(m.label.startswith("CSAT estimated") for m in plain.metrics)
    result = estimated_csat(scored.tickets)
    manifest = {**scored.manifest, "csat_estimate": {**result.metrics, "note": result.note}}
    page = dashboard_page("customer_satisfaction", dataclasses.replace(scored, tickets=result.tickets,
                                                                        manifest=manifest),
                          settings=DashboardSettings())
    labels = [m.label for m in page.metrics]
    assert labels.index("CSAT estimated (all tickets)") == labels.index("CSAT") + 1
    shown = page.metric("CSAT estimated (all tickets)")
    assert shown.value == pytest.approx(100 * result.tickets["csat_good_probability"].mean())
    assert "calibration error" in shown.note and "surveyed" in shown.note
    assert page.metric("Estimate coverage").value == pytest.approx(100.0)


def test_csat_estimate_in_batches_gives_the_same_estimates(estimate, monkeypatch):
    import cxlens.pipelines.csat as csat

    monkeypatch.setattr(csat, "BATCH_ROWS", 701)  # 3,000 tickets: four full batches and a partial one
    again = csat.estimated_csat(estimate.source)
    pd.testing.assert_frame_equal(again.estimates, estimate.estimates)
