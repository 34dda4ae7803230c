"""The KPI catalogue page and the CLI listing come from the registry itself."""

from __future__ import annotations

import json

from cxlens.cli import main
from cxlens.metrics import get_kpi_names
from cxlens.pipelines.kpi_report import kpi_catalogue, kpi_catalogue_markdown


def test_kpi_report_catalogue_doc_is_in_step_with_registry(repo_root):
    page = (repo_root / "docs" / "kpis.md").read_text(encoding="utf-8")
    assert page.strip() == kpi_catalogue_markdown().strip(), (
        "docs/kpis.md is stale: run `cxlens kpis list --format markdown > docs/kpis.md`")


def test_kpi_report_catalogue_lists_every_kpi():
    assert list(kpi_catalogue()["name"]) == get_kpi_names()


def test_kpi_report_catalogue_cli_json(capsys):
    assert main(["kpis", "list", "--format", "json"]) == 0
    rows = json.loads(capsys.readouterr().out)
    assert {row["name"] for row in rows} == set(get_kpi_names())
    assert all(row["formula"] and row["unit"] for row in rows)


def test_kpi_report_unknown_kpi_is_a_clear_error(capsys):
    code = main(["kpis", "explain", "first_respnse_time_mean_s", "--tickets", "nowhere.csv"])
    assert code == 2
    err = capsys.readouterr().err
    assert "Unknown KPI" in err and "first_response_time_mean_s" in err
