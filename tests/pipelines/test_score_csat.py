"""cxlens score estimates CSAT for every ticket: tickets_csat.parquet, the manifest's verdict, the KPI beside
csat, and read_scored / the dashboard's satisfaction page showing both."""

from __future__ import annotations

import json

import pytest

from cxlens.cli import main
from cxlens.pipelines.score import read_scored

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def scored(tmp_path_factory):
    from cxlens.example_data import write_example_archive

    folder = tmp_path_factory.mktemp("csat-archive")
    write_example_archive(folder, n_tickets=400, seed=11, fmt="csv")
    out = tmp_path_factory.mktemp("csat-run") / "out"
    assert main(["-q", "score", "--tickets", str(folder / "tickets.csv"), "--messages", str(folder / "messages.csv"),
                 "--out", str(out), "--fast"]) == 0
    return out


def test_score_csat_writes_estimates_the_verdict_and_the_kpi(scored):
    assert (scored / "tickets_csat.parquet").is_file()
    manifest = json.loads((scored / "manifest.json").read_text(encoding="utf-8"))
    verdict = manifest["csat_estimate"]
    assert verdict["trusted"] is False and "Zendesk" in verdict["note"]  # 400 tickets: far too few a month
    assert verdict["coverage"] == 1.0 and 0 < verdict["holdout_roc_auc"] <= 1
    kpis = json.loads((scored / "kpis.json").read_text(encoding="utf-8"))
    values = kpis.get("kpis", kpis)
    assert values["csat"] is not None and values["csat_estimated"] is not None
    tickets = read_scored(scored).tickets
    assert tickets["csat_good_probability"].between(0, 1).all() and tickets["csat_estimated"].between(1, 5).all()
    assert values["csat_estimated"] == pytest.approx(100 * tickets["csat_good_probability"].mean(), rel=1e-6)
    only = read_scored(scored, tables=["tickets"], columns={"tickets": ["ticket_id", "csat_estimated"]}).tickets
    assert "csat_estimated" in only and "csat_good_probability" not in only


def test_score_csat_satisfaction_page_shows_surveyed_and_estimated(scored):
    from cxlens.pipelines.dashboard import DashboardSettings, dashboard_page

    page = dashboard_page("customer_satisfaction", read_scored(scored), settings=DashboardSettings())
    labels = [m.label for m in page.metrics]
    assert labels.index("CSAT estimated (all tickets)") == labels.index("CSAT") + 1
    note = page.metric("CSAT estimated (all tickets)").note
    assert "calibration error" in note and "Not trustworthy" in note
