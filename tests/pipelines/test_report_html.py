"""``cxlens report``: every dashboard page in one self-contained HTML file that needs no network."""

from __future__ import annotations

import base64
import re
from pathlib import Path

import pytest

pytest.importorskip("matplotlib", reason="matplotlib is not installed (pip install -e '.[dashboard]')")

from cxlens.cli import main
from cxlens.pipelines.dashboard import PAGES

REPO = Path(__file__).resolve().parents[2]
#: a web address in an attribute or a CSS url(): what would make the file reach the network
REMOTE = re.compile(r"""(?:\b(?:src|href|action|poster|data)\s*=\s*["']?\s*(?:https?:)?//)"""
                    r"""|(?:url\(\s*["']?\s*(?:https?:)?//)""", re.IGNORECASE)


@pytest.fixture(scope="module")
def report(dashboard_fixture, dashboard_score_dir, tmp_path_factory) -> str:
    out = tmp_path_factory.getbasetemp() / "dashboard-report.html"
    return dashboard_fixture.write_fixture_report(dashboard_score_dir, out).read_text(encoding="utf-8")


def test_report_html_has_every_page(report):
    assert report.startswith("<!DOCTYPE html>")
    for key, title, _ in PAGES:
        assert f'<section class="page" id="{key}"><h2>{title}</h2>' in report
        assert f'href="#{key}"' in report
    for label in ("First contact resolution", "NPS", "Cost per ticket", "Churn rate", "Topic share",
                  "At-risk accounts", "Script adherence"):
        assert label in report
    assert "run `cxlens score` first" not in report


def test_report_html_topics_show_the_hierarchy_kpis_and_alerts(report, dashboard_fixture):
    section = report[report.index('<section class="page" id="top_topics">'):]
    section = section[:section.index("</section>")]
    for key, title in (("topic_kpis_top", "KPIs per top-level topic"), ("topic_kpis", "KPIs per subtopic"),
                       ("topic_alerts", "Emerging-topic alerts")):
        assert f'<h3 id="top_topics-{key}">{title}</h3>' in section
    for heading in ("top-level topic", "subtopics", "CSAT coverage %", "reopen %", "request types",
                    "top accounts (tickets)", "baseline (tickets)", "sample 1"):
        assert f"<th>{heading}</th>" in section, heading
    for name in dashboard_fixture.PARENTS:
        assert name.replace("&", "&amp;") in section
    alerts = section[section.index('id="top_topics-topic_alerts"'):]
    assert dashboard_fixture.SPIKE["topic"] in alerts and dashboard_fixture.SPIKE["texts"][0] in alerts


def test_report_html_is_offline(report):
    assert not REMOTE.search(report)
    assert "http://" not in report and "https://" not in report
    assert "<script" not in report.lower() and "<link" not in report.lower() and "@import" not in report
    sources = re.findall(r'src="([^"]+)"', report)
    assert len(sources) > 15
    for source in sources:
        assert source.startswith("data:image/png;base64,")
        assert base64.b64decode(source.split(",", 1)[1])[:8] == b"\x89PNG\r\n\x1a\n"


def test_report_html_keeps_the_rows_behind_each_chart(report):
    charts = report.count('<h3 id="')
    assert report.count("Rows behind this chart") >= charts - 1  # the conversations block is not a chart
    link = re.search(r'download="team_service-solved_on_contact-rows.csv" href="data:text/csv;base64,([^"]+)"', report)
    rows = base64.b64decode(link.group(1)).decode("utf-8").splitlines()
    assert rows[0].startswith("ticket_id") and "solved on" in rows[0]
    assert len(rows) - 1 == 2000
    assert "<mark>" in report  # the lowest conversations, evidence marked


def test_report_cli_on_the_raw_archive_with_filters(tmp_path, capsys):
    out = tmp_path / "raw.html"
    code = main(["report", str(REPO / "examples" / "archive"), "--out", str(out), "--start", "2025-03-01",
                 "--end", "2025-05-31", "--channel", "email"])
    assert code == 0
    assert "wrote" in capsys.readouterr().err
    html = out.read_text(encoding="utf-8")
    assert html.count("run `cxlens score` first") == 3  # topics, at-risk, quality
    assert "period 2025-03-01 to 2025-05-31; channel: email" in html
    assert not REMOTE.search(html) and "https://" not in html


def test_report_cli_rejects_a_bad_date(tmp_path, capsys):
    code = main(["report", str(REPO / "examples" / "archive"), "--out", str(tmp_path / "x.html"), "--start", "March"])
    assert code != 0
    assert "YYYY-MM-DD" in capsys.readouterr().err
