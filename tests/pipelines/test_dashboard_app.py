"""The Streamlit app driven by ``streamlit.testing.v1.AppTest``: every page, on a score folder
(the test fixture) and on the raw example archive; drill-down, filters and the conversation view."""

from __future__ import annotations

from pathlib import Path

import pytest

pytest.importorskip("streamlit", reason="streamlit is not installed (pip install -e '.[dashboard]')")

from streamlit.testing.v1 import AppTest

from cxlens.pipelines.dashboard import _app as dashboard_app
from cxlens.pipelines.dashboard import PAGES

REPO = Path(__file__).resolve().parents[2]
APP = Path(dashboard_app.__file__)
EXPECTED_METRICS = {
    "Team service": ["Tickets", "First contact resolution", "First response (median)", "CSAT", "Average handle time"],
    "Customer satisfaction": ["NPS", "Promoters", "Passives", "Detractors", "CSAT", "CES", "Retention rate"],
    "Support KPIs": ["Revenue (MRR)", "Support cost % of revenue", "Cost per ticket", "Time to resolve (median)",
                     "CSAT", "SLA compliance", "Backlog"],
    "Retention": ["NPS", "Loyal customers (repurchase rate)", "Customer lifetime value", "Churn rate",
                  "Revenue churn (MRR lost)", "Net revenue retention", "New MRR", "Net MRR movement"],
    "Top topics": ["Tickets with a topic", "Top-level topics", "Subtopics", "Emerging-topic alerts", "Sentiment index",
                   "Negative share"],
    "At-risk accounts": ["At-risk accounts", "Predicted churn rate", "Revenue at risk (MRR)", "Mean health score"],
    "Quality": ["Conversations scored", "Script adherence", "Auto-fail rate"],
}
AI_PAGES = ("Top topics", "At-risk accounts", "Quality")


@pytest.fixture(scope="module")
def score_dir(dashboard_score_dir) -> Path:
    return dashboard_score_dir


def _app(monkeypatch, folder: Path, **env: str) -> AppTest:
    monkeypatch.setenv(dashboard_app.ENV_DIR, str(folder))
    for name in (dashboard_app.ENV_COST, dashboard_app.ENV_TARGET, dashboard_app.ENV_CONFIG):
        monkeypatch.delenv(name, raising=False)
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    at = AppTest.from_file(str(APP), default_timeout=120)
    at.run()
    assert not at.exception, [e.value for e in at.exception]
    return at


def _show(at: AppTest, title: str) -> AppTest:
    at.sidebar.radio(key="page").set_value(title).run()
    assert not at.exception, f"{title}: {[e.value for e in at.exception]}"
    assert at.title[0].value == title
    return at


def test_dashboard_app_every_page_on_a_score_folder(monkeypatch, score_dir):
    at = _app(monkeypatch, score_dir, **{dashboard_app.ENV_COST: "40000", dashboard_app.ENV_TARGET: "200"})
    assert at.sidebar.radio(key="page").options == [title for _, title, _ in PAGES]
    for _, title, _ in PAGES:
        _show(at, title)
        labels = [m.label for m in at.metric]
        for label in EXPECTED_METRICS[title]:
            assert label in labels, f"{title}: metric {label!r} missing from {labels}"
        shown = {m.label: m.value for m in at.metric}
        assert shown[EXPECTED_METRICS[title][0]] != "n/a", title
        assert not [w for w in at.warning if "cxlens score" in w.value], title
        assert any("page shown" in c.value for c in at.caption), title
    assert {m.label: m.value for m in _show(at, "Support KPIs").metric}["Cost per ticket"] != "n/a"


def test_dashboard_app_every_page_on_the_raw_example_archive(monkeypatch):
    at = _app(monkeypatch, REPO / "examples" / "archive")
    assert "raw tables" in at.sidebar.caption[0].value
    for _, title, _ in PAGES:
        _show(at, title)
        if title in AI_PAGES:
            assert any("run `cxlens score` first" in w.value for w in at.warning), title
        else:
            labels = [m.label for m in at.metric]
            assert all(label in labels for label in EXPECTED_METRICS[title]), (title, labels)
    support = {m.label: m.value for m in _show(at, "Support KPIs").metric}
    assert support["Cost per ticket"] == "n/a"
    assert any("monthly support cost" in i.value for i in at.info)


def test_dashboard_app_drill_down_and_filters(monkeypatch, score_dir):
    from cxlens.pipelines.score import read_scored

    tickets = read_scored(score_dir).tickets
    at = _app(monkeypatch, score_dir)
    drill = at.selectbox(key="team_service-solved_on_contact-drill")
    assert "1st contact" in drill.options
    drill.set_value("1st contact").run()
    assert not at.exception
    shown = [frame.value for frame in at.dataframe if "ticket_id" in frame.value.columns]
    expected = int(((tickets["contacts"] == 1) & ~tickets["reopened"].fillna(False).astype(bool)
                    & tickets["resolved_at"].notna()).sum())
    assert [len(frame) for frame in shown] == [expected]
    at.sidebar.multiselect(key="channels").set_value(["email"]).run()
    assert not at.exception
    metrics = {m.label: m.value for m in at.metric}
    assert metrics["Tickets"] == f"{int((tickets['channel'] == 'email').sum()):,}"


def test_dashboard_app_quality_conversation_marks_evidence(monkeypatch, score_dir):
    at = _app(monkeypatch, score_dir)
    _show(at, "Quality")
    assert at.selectbox(key="quality-conversation").value
    assert any("<mark>" in m.value for m in at.markdown)


def test_dashboard_cli_serves_the_app_headless_on_localhost(monkeypatch, tmp_path):
    import subprocess

    from cxlens.cli import main

    calls = []

    def fake_run(command, env, check):
        calls.append((command, env))
        return subprocess.CompletedProcess(command, 0)

    monkeypatch.setattr(dashboard_app.subprocess, "run", fake_run)
    folder = REPO / "examples" / "archive"
    assert main(["dashboard", str(folder), "--port", "8611", "--no-browser", "--monthly-cost", "1000"]) == 0
    (command, env), = calls
    assert command[1:4] == ["-m", "streamlit", "run"] and command[4] == str(APP)
    flags = dict(zip(command[5:-2:2], command[6:-2:2]))
    assert flags["--server.headless"] == "true" and flags["--server.address"] == "localhost"
    assert flags["--server.port"] == "8611" and flags["--browser.gatherUsageStats"] == "false"
    assert command[-2:] == ["--", str(folder)]
    assert env[dashboard_app.ENV_DIR] == str(folder.resolve()) and env[dashboard_app.ENV_COST] == "1000.0"
    assert main(["dashboard", str(tmp_path / "missing")]) != 0


def test_dashboard_app_names_a_folder_it_cannot_read(monkeypatch, tmp_path):
    monkeypatch.setenv(dashboard_app.ENV_DIR, str(tmp_path))
    at = AppTest.from_file(str(APP), default_timeout=60)
    at.run()
    assert not at.exception
    assert "manifest.json" in at.error[0].value
