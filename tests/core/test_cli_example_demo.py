"""``cxlens example-data`` and ``cxlens demo`` end to end."""

from __future__ import annotations

import pytest

from cxlens.cli import main


def test_example_data_then_kpi_demo(tmp_path, capsys):
    archive = tmp_path / "archive"
    assert main(["example-data", "--tickets", "300", "--seed", "3", "--out", str(archive)]) == 0
    err = capsys.readouterr().err
    for name in ("tickets", "messages", "accounts", "surveys", "mentions"):
        assert (archive / f"{name}.csv").exists() and f"wrote {name}" in err
    assert main(["demo", "--data", str(archive), "--out", str(tmp_path / "demo"), "--kpis-only"]) == 0
    captured = capsys.readouterr()
    assert "cxlens demo: the KPIs of the archive in" in captured.out and "ticket_volume\t300" in captured.out
    assert "tickets: read 300, used 300, quarantined 0" in captured.err
    assert (tmp_path / "demo" / "kpis.json").exists()
    assert not (tmp_path / "demo" / "quarantine").exists()


def test_example_data_parquet(tmp_path):
    assert main(["example-data", "--tickets", "50", "--seed", "1", "--out", str(tmp_path), "--format",
                 "parquet"]) == 0
    assert (tmp_path / "messages.parquet").exists()


def test_demo_on_a_missing_folder_is_an_error(tmp_path, capsys):
    assert main(["demo", "--data", str(tmp_path / "none"), "--out", str(tmp_path / "o")]) == 2
    assert "No archive" in capsys.readouterr().err


@pytest.mark.needs_minilm
def test_demo_scores_the_bundled_archive_into_a_folder_the_report_opens(tmp_path, capsys):
    """The whole scoring on a sample of the bundled archive (--limit keeps the test short); the full demo's
    time is in docs/benchmarks.md."""
    out = tmp_path / "demo"
    assert main(["demo", "--limit", "150", "--out", str(out)]) == 0
    captured = capsys.readouterr()
    assert captured.out.startswith("# cxlens demo: the first 150 tickets (--limit) of the bundled example archive")
    assert "minilm-l2 encoder (our distilled two-layer student" in captured.out
    for section in ("# KPI summary", "# top topics", "# request-type mix", "# accounts most at risk"):
        assert section in captured.out
    kpis = dict(line.split("\t")[:2] for line in captured.out.splitlines() if line.count("\t") == 2)
    for ai_kpi in ("request_type_share", "negative_share", "auto_fail_rate", "predicted_churn_rate"):
        assert ai_kpi in kpis
    assert "request type\ttickets\tshare %\ttrue %" in captured.out
    assert f"cxlens dashboard {out}" in captured.err

    from cxlens.pipelines.score import read_scored

    scored = read_scored(out)
    assert scored.scored and len(scored.tickets) == 150
    assert scored.has("tickets", "request_type", "topic", "sentiment", "script_adherence")
    assert scored.has("accounts", "churn_probability", "health_score")

    # a second demo with the same settings shows the same folder again; other settings replace it
    assert main(["demo", "--limit", "150", "--out", str(out)]) == 0
    assert "already scored: shown again" in capsys.readouterr().out

    # a folder that is not the demo's is never replaced
    other = tmp_path / "mine"
    other.mkdir()
    (other / "notes.txt").write_text("keep me")
    assert main(["demo", "--limit", "150", "--out", str(other)]) == 2
    assert "not empty" in capsys.readouterr().err and (other / "notes.txt").exists()
