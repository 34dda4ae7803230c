"""Output paths: checked before any work (a file, read-only, an input), and the machine's errors in one line."""

from __future__ import annotations

import errno
import os

import pytest

import cxlens.cli._convert as convert_cli
from cxlens._outdir import (check_not_input, environment_problem, output_error, output_errors, prepare_output_dir,
                            prepare_output_file)
from cxlens.cli import main
from cxlens.errors import OutputPathError

TICKETS = "ticket_id,created_at,channel\n1,2025-01-01T10:00:00,email\n2,never,chat\n"


def _read_only(monkeypatch, folder) -> None:
    """``folder`` cannot be written: its mode as a user, and the permission check as root (who may write anyway)."""
    folder.chmod(0o555)
    if os.geteuid() == 0:
        real = os.access
        monkeypatch.setattr(os, "access", lambda p, mode, **kw: False if str(p).startswith(str(folder))
                            else real(p, mode, **kw))


def test_an_output_folder_that_is_holds_or_lies_inside_an_input_is_refused(tmp_path):
    data = tmp_path / "data"
    (data / "parts").mkdir(parents=True)
    (data / "tickets.csv").write_text(TICKETS)
    with pytest.raises(OutputPathError, match="is an input"):
        check_not_input(data / "tickets.csv", [data / "tickets.csv"])
    with pytest.raises(OutputPathError, match="holds the input"):
        prepare_output_dir(data, inputs=[data / "tickets.csv"])
    with pytest.raises(OutputPathError, match="is inside the input folder"):
        prepare_output_dir(data / "parts" / "out", inputs=[data / "parts"])
    assert not (data / "parts" / "out").exists()
    assert prepare_output_dir(tmp_path / "out", inputs=[data / "tickets.csv", None]).is_dir()


def test_an_output_folder_that_is_or_lies_under_a_file_is_refused_in_python_and_on_the_cli(tmp_path):
    (tmp_path / "file").write_text("x")
    with pytest.raises(OutputPathError, match=r"out='.*file': is a file: give a folder"):
        prepare_output_dir(tmp_path / "file")
    with pytest.raises(OutputPathError, match="is a file, not a folder"):
        prepare_output_dir(tmp_path / "file" / "sub", create=False)
    with pytest.raises(OutputPathError, match="is a folder: give a file name"):
        prepare_output_file(tmp_path)


def test_create_false_checks_and_makes_nothing(tmp_path):
    assert prepare_output_dir(tmp_path / "a" / "b", create=False) == tmp_path / "a" / "b"
    assert not (tmp_path / "a").exists()


def test_a_read_only_output_folder_is_refused_before_any_work(tmp_path, monkeypatch):
    ro = tmp_path / "ro"
    ro.mkdir()
    _read_only(monkeypatch, ro)
    try:
        with pytest.raises(OutputPathError, match="not writable: permission denied"):
            prepare_output_dir(ro / "out")
        with pytest.raises(OutputPathError, match="not writable"):
            prepare_output_file(ro / "report.html")
        assert not (ro / "out").exists()
    finally:
        ro.chmod(0o755)


@pytest.mark.parametrize("code, words", [(errno.ENOSPC, "no space left"), (errno.EROFS, "read-only file system"),
                                         (errno.EACCES, "permission denied"), (errno.EDQUOT, "quota"),
                                         (errno.ENOTDIR, "is a file, not a folder")])
def test_environment_errors_become_one_line_with_what_to_do(code, words):
    exc = OSError(code, os.strerror(code), "/data/out/part.parquet")
    line = environment_problem(exc)
    assert words in line and "/data/out/part.parquet" in line and "\n" not in line
    error = output_error(exc, "/data/out")
    assert isinstance(error, OutputPathError) and error.exit_code == 2 and words in str(error)
    assert error.cli_message({"out": "--out"}).startswith("--out /data/out: cannot write there")


def test_worded_errors_without_errno_are_recognised_and_others_pass_through():
    assert "no space left" in environment_problem(OSError("Error writing bytes: No space left on device"))
    assert environment_problem(OSError(errno.ENOENT, "No such file or directory", "x")) is None
    assert environment_problem(BrokenPipeError(errno.EPIPE, "Broken pipe")) is None
    with pytest.raises(OutputPathError, match="no space left"):
        with output_errors("out"):
            raise OSError(errno.ENOSPC, "No space left on device")
    with pytest.raises(FileNotFoundError):
        with output_errors("out"):
            raise FileNotFoundError(errno.ENOENT, "No such file or directory", "in.csv")


def test_cli_maps_an_environment_oserror_of_any_command_to_one_line_and_exit_2(tmp_path, monkeypatch, capsys):
    def full(args):
        raise OSError(errno.ENOSPC, "No space left on device", str(tmp_path / "out" / "tickets.csv"))

    monkeypatch.setattr(convert_cli, "convert_cmd", full)
    assert main(["convert", "twcs", "--input", "x.csv", "--out", str(tmp_path / "out")]) == 2
    err = capsys.readouterr().err
    assert err.startswith("cxlens: error: cannot write ") and "no space left on the device (ENOSPC)" in err
    assert err.count("\n") == 1 and "Traceback" not in err


def test_cli_commands_refuse_an_out_that_is_a_file_or_an_input_in_one_line(tmp_path, capsys):
    (tmp_path / "tickets.csv").write_text(TICKETS)
    (tmp_path / "file").write_text("x")
    runs = [
        ["validate", "--tickets", str(tmp_path / "tickets.csv"), "--out", str(tmp_path / "file")],
        ["validate", "--tickets", str(tmp_path / "tickets.csv"), "--out", str(tmp_path)],
        ["convert", "twcs", "--input", str(tmp_path / "tickets.csv"), "--out", str(tmp_path / "file" / "x")],
        ["topics", "discover", "--input", str(tmp_path / "tickets.csv"), "--text-col", "text", "--out",
         str(tmp_path / "file")],
        ["mentions", "score", "--input", str(tmp_path / "tickets.csv"), "--out", str(tmp_path / "file"), "--fast"],
        ["report", str(tmp_path), "--out", str(tmp_path / "tickets.csv")],
        ["report", str(tmp_path), "--out", str(tmp_path)],
    ]
    for args in runs:
        assert main(args) == 2, args
        err = capsys.readouterr().err
        assert err.startswith("cxlens: error: --out ") and err.count("\n") == 1, (args, err)
    assert (tmp_path / "tickets.csv").read_text() == TICKETS and (tmp_path / "file").read_text() == "x"


def test_report_can_be_written_again_into_the_folder_it_reads(tmp_path, capsys):
    from cxlens.cli import main

    (tmp_path / "report.html").write_text("<html></html>")  # an earlier `cxlens report DIR --out DIR/report.html`
    main(["report", str(tmp_path), "--out", str(tmp_path / "report.html")])
    # the folder is no score output, so the report fails, but not on --out: the earlier report is no input
    assert not capsys.readouterr().err.startswith("cxlens: error: --out ")
