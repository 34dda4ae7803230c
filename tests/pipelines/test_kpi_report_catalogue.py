"""The KPI catalogue page and the CLI listing come from the registry itself."""

from __future__ import annotations

import json

import pytest

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


@pytest.fixture(scope="module")
def small_archive(tmp_path_factory):
    from cxlens.example_data import write_example_archive

    folder = tmp_path_factory.mktemp("explain-where")
    write_example_archive(folder, n_tickets=400, seed=3, fmt="csv")
    return folder


def _explained(capsys, *args) -> str:
    assert main(["kpis", "explain", *args]) == 0
    return capsys.readouterr().err.strip().splitlines()[-1]


def test_explain_where_reads_values_as_the_columns_type_and_narrows_surveys(small_archive, capsys):
    archive = ["--archive", str(small_archive)]
    for same in (["channel=email", "channel=Email"], ["reopened=true", "reopened=yes"], ["contacts=1", "contacts=1.0"]):
        first, second = (_explained(capsys, "ticket_volume", *archive, "--where", w) for w in same)
        assert first == second and " = 0 " not in first, (same, first)
    # a survey KPI of one channel is that channel's value (kpis compute --by channel), not every channel's
    line = _explained(capsys, "csat", *archive, "--where", "channel=email")
    assert main(["kpis", "compute", *archive, "--by", "channel", "--kpi", "csat", "--format", "json"]) == 0
    groups = json.loads(capsys.readouterr().out)["groups"]
    email = next(g for g in groups if g["channel"] == "email")["kpis"]["csat"]
    assert f"csat = {email} " in line


def test_explain_where_refuses_kpis_of_tables_without_tickets_and_bad_values(small_archive, capsys):
    archive = ["--archive", str(small_archive)]
    assert main(["kpis", "explain", "churn_rate", *archive, "--where", "channel=email"]) != 0
    assert "reads accounts" in capsys.readouterr().err
    assert main(["kpis", "explain", "ticket_volume", *archive, "--where", "reopened=maybe"]) != 0
    assert "no flag value" in capsys.readouterr().err


def test_explain_where_on_timestamps_and_surveys_without_ticket_ids(small_archive, tmp_path, capsys):
    import pandas as pd

    archive = ["--archive", str(small_archive)]
    tickets = pd.read_csv(small_archive / "tickets.csv")
    day = str(tickets["created_at"].iloc[0])[:10]
    on_day = int(tickets["created_at"].astype(str).str.startswith(day).sum())
    assert f"ticket_volume = {on_day} " in _explained(capsys, "ticket_volume", *archive, "--where", f"created_at={day}")
    moment = str(tickets["created_at"].iloc[0])  # as written in the file
    assert " = 0 " not in _explained(capsys, "ticket_volume", *archive, "--where", f"created_at={moment}")
    copy = tmp_path / "no_survey_ids"
    copy.mkdir()
    for f in small_archive.iterdir():
        frame = pd.read_csv(f)
        (frame.drop(columns=["ticket_id"]) if f.name.startswith("surveys") else frame).to_csv(copy / f.name, index=False)
    assert main(["kpis", "explain", "csat", "--archive", str(copy), "--where", "channel=email"]) != 0
    assert "no ticket_id" in capsys.readouterr().err
