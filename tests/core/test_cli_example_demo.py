"""``cxlens example-data`` and ``cxlens demo`` end to end."""

from __future__ import annotations

from cxlens.cli import main


def test_example_data_then_demo(tmp_path, capsys):
    archive = tmp_path / "archive"
    assert main(["example-data", "--tickets", "300", "--seed", "3", "--out", str(archive)]) == 0
    err = capsys.readouterr().err
    for name in ("tickets", "messages", "accounts", "surveys", "mentions"):
        assert (archive / f"{name}.csv").exists() and f"wrote {name}" in err
    assert main(["demo", "--data", str(archive), "--out", str(tmp_path / "demo")]) == 0
    captured = capsys.readouterr()
    assert "KPI summary" in captured.out and "ticket_volume" in captured.out
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
