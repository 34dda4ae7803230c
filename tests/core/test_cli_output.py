"""stdout carries only data: logs and progress go to stderr, a closed pipe ends quietly, a table printed to a
pipe is TSV, and every command that reads tables takes ``--archive DIR`` or the table flags."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

from cxlens.cli import build_parser, main

CLI = [sys.executable, "-m", "cxlens"]

TICKETS = ("ticket_id,created_at,resolved_at,channel\n"
           "1,2025-01-01T10:00:00,2025-01-01T12:00:00,email\n"
           "2,not-a-date,,chat\n"
           "3,2025-01-02T10:00:00,,chat\n")


def _cli(args: list[str], cwd) -> subprocess.CompletedProcess:
    return subprocess.run(CLI + args, capture_output=True, text=True, cwd=cwd, timeout=120)


def test_cli_output_kpis_json_on_stdout_parses_despite_a_quarantine_warning(tmp_path):
    (tmp_path / "tickets.csv").write_text(TICKETS)
    done = _cli(["kpis", "compute", "--tickets", "tickets.csv", "--format", "json"], cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    report = json.loads(done.stdout)  # nothing but the report on stdout
    assert report["kpis"]["ticket_volume"] == 2
    assert "rows quarantined" in done.stderr and "tickets: read 3, used 2, quarantined 1" in done.stderr


def test_cli_output_closed_pipe_ends_quietly(tmp_path):
    done = subprocess.run(f"{sys.executable} -m cxlens scorecard list | head -1", shell=True, capture_output=True,
                          text=True, cwd=tmp_path, timeout=120)
    assert done.stdout.startswith("name\t")
    assert "Traceback" not in done.stderr and "BrokenPipeError" not in done.stderr, done.stderr


def test_cli_output_broken_pipe_in_process_returns_141(monkeypatch):
    """A reader that went away ends the command with 141 (as SIGPIPE would), not a traceback."""
    import io

    class Closed(io.StringIO):
        def write(self, text):
            raise BrokenPipeError(32, "Broken pipe")

    monkeypatch.setattr(sys, "stdout", Closed())
    assert main(["kpis", "list"]) == 141


def test_cli_output_table_to_a_pipe_is_tsv(tmp_path):
    done = _cli(["kpis", "list"], cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    lines = done.stdout.splitlines()
    assert lines[0] == "name\tunit\tdirection\tformula\trequires"
    assert all(line.count("\t") == 4 for line in lines) and len(lines) > 20
    assert not any(ch in done.stdout for ch in "┏━│")  # no rich box


def test_cli_output_kpi_table_to_a_pipe_is_tsv_of_raw_values(tmp_path, capsys):
    (tmp_path / "tickets.csv").write_text(TICKETS)
    assert main(["kpis", "compute", "--tickets", str(tmp_path / "tickets.csv"),
                 "--quarantine-dir", str(tmp_path / "q")]) == 0
    captured = capsys.readouterr()
    rows = dict(line.split("\t")[:2] for line in captured.out.splitlines()[1:])
    assert captured.out.startswith("kpi\tvalue\tunit\tn\n") and rows["ticket_volume"] == "2"
    assert "quarantined 1" in captured.err


def test_cli_output_logging_goes_to_stderr(capsys):
    import logging

    main(["kpis", "list", "--format", "json"])
    capsys.readouterr()
    logging.getLogger("cxlens.test").warning("a warning for the user")
    logging.getLogger("onnxruntime").warning("Please consider to run pre-processing before quantization. Refer to")
    captured = capsys.readouterr()
    assert "a warning for the user" in captured.err and "a warning" not in captured.out
    assert "pre-processing" not in captured.err + captured.out


def _table_commands():
    """(command words, subparser) of every command whose inputs come from add_input_args."""
    found = []

    def walk(parser, words):
        for action in parser._actions:
            if action.__class__.__name__ == "_SubParsersAction":
                for name, child in action.choices.items():
                    walk(child, words + [name])
        if any({"--messages", "--accounts"} & set(a.option_strings) for a in parser._actions):
            found.append((words, parser))

    walk(build_parser(), [])
    return found


def test_cli_output_every_table_command_takes_archive_and_the_table_flags():
    commands = _table_commands()
    names = {" ".join(words) for words, _ in commands}
    assert {"validate", "kpis compute", "kpis explain", "qa", "score", "accounts at-risk", "accounts score",
            "train churn"} <= names
    for words, parser in commands:
        flags = {s for a in parser._actions for s in a.option_strings}
        assert "--archive" in flags and "--tickets" in flags, words


@pytest.mark.parametrize("command", [["validate"], ["kpis", "compute", "--format", "json"]])
def test_cli_output_archive_reads_every_table(command, tmp_path, capsys):
    archive = tmp_path / "a"
    archive.mkdir()
    (archive / "tickets.csv").write_text(TICKETS)
    (archive / "messages.csv").write_text("ticket_id,sent_at,author_role,text\n1,2025-01-01T10:05:00,agent,hi\n")
    own = tmp_path / "other.csv"  # an explicit table flag replaces the archive's file
    own.write_text(TICKETS.replace("3,2025-01-02T10:00:00,,chat\n", ""))
    out = ["--out", str(tmp_path / "o")] if command == ["validate"] else ["--quarantine-dir", str(tmp_path / "q")]
    assert main([*command, "--archive", str(archive), "--tickets", str(own), *out]) == 0
    err = capsys.readouterr().err
    assert "tickets: read 2, used 1, quarantined 1" in err and "messages: read 1, used 1" in err


def test_cli_output_archive_without_tickets_is_an_error(tmp_path, capsys):
    assert main(["validate", "--archive", str(tmp_path), "--out", str(tmp_path / "o")]) == 2
    assert "no tickets" in capsys.readouterr().err
