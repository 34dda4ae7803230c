"""cxlens score never deletes what it did not write, runs one at a time per folder, names the machine's errors
in one line and leaves nothing half-made; every option that changes the output is in the run's fingerprint.
``cxlens dashboard`` stops its Streamlit child when it is stopped."""

from __future__ import annotations

import errno
import json
import logging
import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import pandas as pd
import pytest

from cxlens.cli import main
from cxlens.config import KPIConfig
from cxlens.errors import InvalidConfigError, OutputPathError
from cxlens.pipelines.score import HeadOptions, ScoreInputs, run_score

REPO = Path(__file__).resolve().parents[2]
#: no model at all: the tests are about the folder, not the heads
FAST = HeadOptions(skip=("topic", "qa", "sentiment", "request_type"))
FAST_FLAGS = ["--skip", "topic", "--skip", "qa", "--skip", "sentiment", "--skip", "request_type"]
LOCK = ".cxlens.lock"


@pytest.fixture(scope="module")
def archive(tmp_path_factory) -> Path:
    """30 tickets and their messages from examples/archive (CSV)."""
    folder = tmp_path_factory.mktemp("archive")
    src = REPO / "examples" / "archive"
    tickets = pd.read_csv(src / "tickets.csv", dtype=str).head(30)
    tickets.to_csv(folder / "tickets.csv", index=False)
    messages = pd.read_csv(src / "messages.csv", dtype=str)
    messages[messages["ticket_id"].isin(tickets["ticket_id"])].to_csv(folder / "messages.csv", index=False)
    return folder


def _inputs(folder: Path, **extra) -> ScoreInputs:
    return ScoreInputs(tickets=str(folder / "tickets.csv"), **extra)


def _snapshot(folder: Path) -> dict[str, bytes]:
    return {str(p.relative_to(folder)): p.read_bytes() for p in sorted(folder.rglob("*")) if p.is_file()}


def _one_line_error(err: str, *words: str) -> None:
    lines = [line for line in err.splitlines() if line.strip()]  # the progress bar may leave a blank line
    assert len(lines) == 1 and lines[0].startswith("cxlens: error: "), err
    for word in words:
        assert word in err, err


# ---------------------------------------------------------------- never delete what cxlens did not write


def test_overwrite_into_an_input_folder_with_an_unrelated_manifest_deletes_nothing(archive, tmp_path, capsys):
    data = tmp_path / "data"
    data.mkdir()
    for name in ("tickets.csv", "messages.csv"):
        (data / name).write_bytes((archive / name).read_bytes())
    (data / "manifest.json").write_text(json.dumps({"dataset": "support export", "version": 3}))
    (data / "README.txt").write_text("our export")
    before = _snapshot(data)
    code = main(["-q", "score", "--tickets", str(data / "tickets.csv"), "--messages", str(data / "messages.csv"),
                 "--out", str(data), "--overwrite", *FAST_FLAGS])
    assert code == 2
    _one_line_error(capsys.readouterr().err, "--out", "holds the input")
    assert _snapshot(data) == before


def test_a_manifest_cxlens_did_not_write_is_no_licence_to_delete(archive, tmp_path):
    out = tmp_path / "out"
    (out / "tickets").mkdir(parents=True)
    (out / "tickets" / "mine.parquet").write_text("not cxlens's")
    (out / "manifest.json").write_text(json.dumps({"version": 1, "inputs": "mine"}))
    before = _snapshot(out)
    with pytest.raises(OutputPathError, match="holds a manifest.json that `cxlens score` did not write"):
        run_score(_inputs(archive), out=out, options=FAST, overwrite=True)
    assert _snapshot(out) == before and not (out / LOCK).exists()


def test_overwrite_removes_only_what_a_run_writes(archive, tmp_path):
    out = tmp_path / "out"
    run_score(_inputs(archive), out=out, options=FAST, limit=10)
    (out / "notes.txt").write_text("keep me")
    (out / "charts").mkdir()
    (out / "charts" / "a.png").write_bytes(b"png")
    summary = run_score(_inputs(archive), out=out, options=FAST, limit=20, overwrite=True)
    assert summary.manifest["counts"]["tickets"]["used"] == 20
    assert summary.manifest["written_by"] == "cxlens score"
    assert (out / "notes.txt").read_text() == "keep me" and (out / "charts" / "a.png").read_bytes() == b"png"


def test_an_out_inside_an_input_folder_is_refused_and_nothing_is_made(archive, tmp_path):
    parts = tmp_path / "tickets"
    parts.mkdir()
    (parts / "part-1.csv").write_bytes((archive / "tickets.csv").read_bytes())
    with pytest.raises(OutputPathError, match="is inside the input folder"):
        run_score(ScoreInputs(tickets=str(parts)), out=parts / "scored", options=FAST)
    assert sorted(p.name for p in parts.iterdir()) == ["part-1.csv"]


# ---------------------------------------------------------------- one run at a time


def test_a_second_run_on_the_same_out_stops_naming_the_pid_of_the_first(archive, tmp_path):
    out = tmp_path / "out"
    seen = []

    def second_run(k: int) -> None:
        if k == 0:
            seen.append(json.loads((out / LOCK).read_text()))
            with pytest.raises(OutputPathError, match=f"another cxlens run is using this folder \\(pid {os.getpid()}"):
                run_score(_inputs(archive), out=out, options=FAST, chunk_rows=10)

    summary = run_score(_inputs(archive), out=out, options=FAST, chunk_rows=10, after_chunk=second_run)
    assert summary.manifest["status"] == "complete" and summary.manifest["counts"]["tickets"]["used"] == 30
    assert seen and seen[0]["pid"] == os.getpid() and {"host", "started"} <= set(seen[0])
    assert not (out / LOCK).exists()


def test_the_cli_refuses_a_folder_locked_by_a_live_process(archive, tmp_path, capsys):
    out = tmp_path / "out"
    args = ["-q", "score", "--tickets", str(archive / "tickets.csv"), "--out", str(out), *FAST_FLAGS]
    assert main(args) == 0
    capsys.readouterr()
    live = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"])
    try:
        (out / LOCK).write_text(json.dumps({"pid": live.pid, "host": socket.gethostname(), "started": "earlier"}))
        assert main(args) == 2
        _one_line_error(capsys.readouterr().err, f"pid {live.pid}", "another cxlens run is using this folder")
        assert (out / LOCK).is_file()  # not ours to remove
    finally:
        live.kill()
        live.wait()


def test_a_stale_lock_is_taken_over_with_a_warning(archive, tmp_path, caplog):
    out = tmp_path / "out"
    out.mkdir()
    dead = subprocess.Popen([sys.executable, "-c", "pass"])
    dead.wait()
    (out / LOCK).write_text(json.dumps({"pid": dead.pid, "host": socket.gethostname(), "started": "earlier"}))
    with caplog.at_level(logging.WARNING):
        summary = run_score(_inputs(archive), out=out, options=FAST)
    assert "taking over the lock" in caplog.text and f"pid {dead.pid}" in caplog.text
    assert summary.manifest["status"] == "complete" and not (out / LOCK).exists()


def test_the_lock_is_held_during_the_run_and_removed_on_ctrl_c_and_on_errors(archive, tmp_path):
    out = tmp_path / "out"
    held = []

    def stop(k: int) -> None:
        held.append((out / LOCK).is_file())
        raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        run_score(_inputs(archive), out=out, options=FAST, chunk_rows=10, after_chunk=stop)
    assert held == [True] and not (out / LOCK).exists()
    assert json.loads((out / "manifest.json").read_text())["chunks"]["done"] == [0]  # kept: the rerun continues

    def fail(k: int) -> None:
        raise RuntimeError("boom")

    with pytest.raises(RuntimeError):
        run_score(_inputs(archive), out=out, options=FAST, chunk_rows=10, after_chunk=fail)
    assert not (out / LOCK).exists() and (out / "manifest.json").is_file()


# ---------------------------------------------------------------- the machine's errors, nothing half-made


def test_a_read_only_out_is_one_line_and_exit_2(archive, tmp_path, monkeypatch, capsys):
    ro = tmp_path / "ro"
    ro.mkdir()
    ro.chmod(0o555)
    if os.geteuid() == 0:  # root writes anyway: deny as a read-only mount would
        real_access, real_mkdir = os.access, os.mkdir

        def denied(path) -> bool:
            return str(path).startswith(str(ro))

        monkeypatch.setattr(os, "access", lambda p, m, **kw: False if denied(p) else real_access(p, m, **kw))
        monkeypatch.setattr(os, "mkdir", lambda p, *a, **kw: (_ for _ in ()).throw(
            OSError(errno.EROFS, "Read-only file system", str(p))) if denied(p) else real_mkdir(p, *a, **kw))
    try:
        code = main(["-q", "score", "--tickets", str(archive / "tickets.csv"), "--out", str(ro / "out"),
                     *FAST_FLAGS])
        assert code == 2
        _one_line_error(capsys.readouterr().err, f"--out {ro / 'out'}", "not writable")
        assert not (ro / "out").exists()
    finally:
        ro.chmod(0o755)


def test_an_out_that_is_or_lies_under_a_file_is_one_line_and_exit_2(archive, tmp_path, capsys):
    (tmp_path / "file").write_text("x")
    with pytest.raises(OutputPathError, match="is a file"):
        run_score(_inputs(archive), out=tmp_path / "file", options=FAST)
    code = main(["-q", "score", "--tickets", str(archive / "tickets.csv"), "--out", str(tmp_path / "file" / "sub"),
                 *FAST_FLAGS])
    assert code == 2
    _one_line_error(capsys.readouterr().err, "is a file, not a folder")
    assert (tmp_path / "file").read_text() == "x"


def test_a_full_disk_is_one_line_exit_2_and_leaves_no_half_made_out(archive, tmp_path, monkeypatch, capsys):
    def full(self, path, *args, **kwargs):
        raise OSError(errno.ENOSPC, "No space left on device", str(path))

    monkeypatch.setattr(pd.DataFrame, "to_parquet", full)
    out = tmp_path / "out"
    code = main(["-q", "score", "--tickets", str(archive / "tickets.csv"), "--out", str(out), *FAST_FLAGS])
    assert code == 2
    _one_line_error(capsys.readouterr().err, f"--out {out}", "no space left on the device (ENOSPC)")
    assert not out.exists()


def test_empty_input_removes_the_out_it_made_and_leaves_an_existing_one_as_it_was(tmp_path, capsys):
    tickets = tmp_path / "tickets.csv"
    tickets.write_text("ticket_id,created_at,channel\n")
    out = tmp_path / "out"
    assert main(["-q", "score", "--tickets", str(tickets), "--out", str(out), *FAST_FLAGS]) == 2
    assert "No usable tickets rows" in capsys.readouterr().err and not out.exists()
    out.mkdir()
    with pytest.raises(Exception, match="No usable tickets rows"):
        run_score(ScoreInputs(tickets=str(tickets)), out=out, options=FAST)
    assert out.is_dir() and not list(out.iterdir())


# ---------------------------------------------------------------- the fingerprint


def test_a_rerun_with_another_encoding_is_refused_or_redone_not_skipped(archive, tmp_path):
    tickets = pd.read_csv(archive / "tickets.csv", dtype=str)
    tickets.loc[:4, "subject"] = "Café crème: problème"
    tickets.to_csv(tmp_path / "tickets.csv", index=False, encoding="latin-1")
    out = tmp_path / "out"
    first = run_score(ScoreInputs(tickets=str(tmp_path / "tickets.csv")), out=out, options=FAST)
    assert first.manifest["counts"]["tickets"]["quarantined"] == 5
    latin = ScoreInputs(tickets=str(tmp_path / "tickets.csv"), encoding="latin-1")
    with pytest.raises(InvalidConfigError, match="holds a run with other inputs or options"):
        run_score(latin, out=out, options=FAST)
    again = run_score(latin, out=out, options=FAST, overwrite=True)
    assert again.manifest["counts"]["tickets"] == {**first.manifest["counts"]["tickets"], "used": 30,
                                                   "quarantined": 0}
    assert not (out / "quarantine").exists()
    same = run_score(ScoreInputs(tickets=str(tmp_path / "tickets.csv"), encoding="LATIN-1"), out=out, options=FAST)
    assert "already holds this complete run" in same.notes[0]  # the same codec, however it is spelt


def test_kpi_settings_are_in_the_fingerprint_and_progress_is_not(archive, tmp_path):
    out = tmp_path / "out"
    run_score(_inputs(archive), out=out, options=FAST)
    quiet = run_score(_inputs(archive), out=out, options=FAST, progress=lambda *a: None, keep_work=True)
    assert "already holds this complete run" in quiet.notes[0]
    with pytest.raises(InvalidConfigError, match="holds a run with other inputs or options"):
        run_score(_inputs(archive), out=out, options=FAST, kpi_config=KPIConfig(csat_threshold=3.0))


# ---------------------------------------------------------------- the dashboard's child


DRIVER = """
import sys
from cxlens.pipelines.dashboard import _app

pid_file, ignore_term = sys.argv[1], sys.argv[2] == "1"
child = ("import os, signal, time\\n"
         + ("signal.signal(signal.SIGTERM, signal.SIG_IGN)\\n" if ignore_term else "")
         + f"open({pid_file!r}, 'w').write(str(os.getpid()))\\ntime.sleep(600)\\n")
_app.streamlit_command = lambda folder, **kw: [sys.executable, "-c", child]  # a stand-in for Streamlit
from cxlens.cli import main
sys.exit(main(["dashboard", sys.argv[3], "--no-browser"]))
"""


def _gone(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return True
    return False


@pytest.mark.parametrize("sig, ignore_term", [(signal.SIGTERM, False), (signal.SIGHUP, True)])
def test_stopping_the_dashboard_stops_its_streamlit_child(tmp_path, sig, ignore_term):
    pid_file = tmp_path / "child.pid"
    proc = subprocess.Popen([sys.executable, "-c", DRIVER, str(pid_file), "1" if ignore_term else "0",
                             str(REPO / "examples" / "archive")], stderr=subprocess.PIPE, text=True, cwd=tmp_path)
    child = None
    try:
        deadline = time.time() + 60
        while not (pid_file.is_file() and pid_file.read_text()) and time.time() < deadline and proc.poll() is None:
            time.sleep(0.05)
        child = int(pid_file.read_text())
        proc.send_signal(sig)
        proc.wait(timeout=30)
        assert proc.returncode == 128 + sig and f"dashboard stopped ({signal.Signals(sig).name})" in proc.stderr.read()
        assert _gone(child), "the Streamlit child is still running"
    finally:
        for pid in (proc.pid, child):
            if pid is not None and not _gone(pid):
                os.kill(pid, signal.SIGKILL)
        proc.wait()
