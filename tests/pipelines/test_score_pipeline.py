"""cxlens score: outputs keep every input row and column, counts reconcile, runs resume, bad input is set aside."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from dataclasses import replace
from pathlib import Path

import pandas as pd
import pytest

from cxlens.cli import main
from cxlens.errors import ConfigError, UnreadableFileError
from cxlens.nlp.encoders import STUDENT_DIR
from cxlens.pipelines.score import ScoreInputs, run_score
from cxlens.pipelines.score import HeadOptions
from cxlens.pipelines.score import read_scored

pytestmark = pytest.mark.slow
N_TICKETS = 120


@pytest.fixture(scope="module")
def archive(small_archive) -> Path:
    return small_archive


def _inputs(folder: Path, **extra) -> ScoreInputs:
    return ScoreInputs(tickets=str(folder / "tickets.csv"), messages=str(folder / "messages.csv"), **extra)


OPTIONS = HeadOptions(scorecard="general_support")


@pytest.fixture(scope="module")
def reference_run(archive, tmp_path_factory):
    out = tmp_path_factory.mktemp("ref") / "out"
    summary = run_score(_inputs(archive, accounts=str(archive / "accounts.csv"), surveys=str(archive / "surveys.csv"),
                                mentions=str(archive / "mentions.csv")),
                        out=out, options=OPTIONS, chunk_rows=40)
    return summary, read_scored(out)


def _tickets(folder: Path) -> pd.DataFrame:
    frame = read_scored(folder, tables=["tickets"]).tickets
    return frame.sort_values("ticket_id").reset_index(drop=True)


def test_scored_tickets_keep_every_input_row_and_column(archive, reference_run):
    summary, scored = reference_run
    raw = pd.read_csv(archive / "tickets.csv", dtype=str)
    assert summary.manifest["status"] == "complete"
    assert sorted(scored.tickets["ticket_id"]) == sorted(raw["ticket_id"])
    assert set(raw.columns) <= set(scored.tickets.columns)
    for col in ("request_type", "request_type_confidence", "topic_id", "topic", "sentiment", "sentiment_score",
                "script_adherence", "auto_fail"):
        assert col in scored.tickets.columns
    has_text = scored.tickets["customer_text"].notna()
    assert has_text.mean() > 0.9
    assert scored.tickets.loc[has_text, "request_type"].notna().all()
    assert scored.tickets.loc[~has_text, "request_type"].isna().all()
    assert scored.tickets.loc[has_text, "sentiment"].isin(["negative", "neutral", "positive"]).all()
    assert scored.tickets["script_adherence"].between(0, 100).any()
    assert len(scored.messages) == len(pd.read_csv(archive / "messages.csv"))
    customer = scored.messages["author_role"] == "customer"
    assert scored.messages.loc[customer, "sentiment"].notna().all()
    assert scored.messages.loc[~customer, "sentiment"].isna().all()


def test_ticket_sentiment_is_the_majority_of_its_customer_messages(reference_run):
    _, scored = reference_run
    msgs = scored.messages[scored.messages["author_role"] == "customer"]
    some = msgs.groupby("ticket_id")["sentiment"].agg(list)
    order = ["negative", "neutral", "positive"]
    for tid, labels in some.head(40).items():
        counts = {lab: labels.count(lab) for lab in order}
        expected = max(order, key=lambda lab: (counts[lab], -order.index(lab)))
        assert scored.tickets.set_index("ticket_id").loc[tid, "sentiment"] == expected


def test_counts_reconcile_and_downstream_tables_are_written(reference_run):
    summary, scored = reference_run
    for table, c in summary.manifest["counts"].items():
        assert c["read"] == c["used"] + c["quarantined"], table
    assert scored.accounts is not None and "churn_probability" in scored.accounts
    assert scored.mentions is not None and "sentiment" in scored.mentions
    assert scored.kpis["kpis"]["ticket_volume"] == N_TICKETS
    assert "sentiment_index" in scored.kpis["kpis"] and "script_adherence_rate" in scored.kpis["kpis"]
    assert summary.manifest["inputs"]["tickets"][0]["sha256"]
    assert not (summary.out / "_work").exists()


def test_an_interrupted_run_resumes_without_duplicates_or_losses(archive, reference_run, tmp_path):
    out = tmp_path / "out"

    def stop(k: int) -> None:
        if k == 1:
            raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        run_score(_inputs(archive), out=out, options=OPTIONS, chunk_rows=40, after_chunk=stop)
    manifest = json.loads((out / "manifest.json").read_text())
    assert manifest["status"] == "running" and manifest["chunks"]["done"] == [0, 1]
    summary = run_score(_inputs(archive), out=out, options=OPTIONS, chunk_rows=40)
    assert summary.resumed_chunks == 2
    resumed, reference = _tickets(out), reference_run[1].tickets.sort_values("ticket_id").reset_index(drop=True)
    assert resumed["ticket_id"].is_unique and len(resumed) == N_TICKETS
    pd.testing.assert_series_equal(resumed["request_type"], reference["request_type"])
    pd.testing.assert_series_equal(resumed["script_adherence"], reference["script_adherence"])


def test_a_killed_process_resumes_from_the_last_finished_chunk(archive, tmp_path):
    out = tmp_path / "out"
    cmd = [sys.executable, "-m", "cxlens", "-q", "score", "--tickets", str(archive / "tickets.csv"),
           "--messages", str(archive / "messages.csv"), "--out", str(out), "--chunk-rows", "20", "--skip", "topic"]
    proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.time() + 120
    while time.time() < deadline:
        parts = list((out / "tickets").glob("part-*.parquet")) if (out / "tickets").is_dir() else []
        if len(parts) >= 2 or proc.poll() is not None:
            break
        time.sleep(0.2)
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait()
    manifest = json.loads((out / "manifest.json").read_text())
    assert manifest["status"] != "complete", "the run finished before it could be killed"
    finished = len(manifest["chunks"].get("done", []))
    assert main(["-q", "score", "--tickets", str(archive / "tickets.csv"), "--messages", str(archive / "messages.csv"),
                 "--out", str(out), "--chunk-rows", "20", "--skip", "topic"]) == 0
    manifest = json.loads((out / "manifest.json").read_text())
    assert manifest["status"] == "complete" and len(manifest["chunks"]["done"]) == N_TICKETS // 20
    assert finished >= 1
    tickets = _tickets(out)
    assert tickets["ticket_id"].is_unique and len(tickets) == N_TICKETS
    assert not list(out.rglob("*.tmp"))


def test_bad_rows_and_a_corrupted_part_are_quarantined_not_fatal(archive, tmp_path):
    folder = tmp_path / "tickets"
    folder.mkdir()
    raw = pd.read_csv(archive / "tickets.csv", dtype=str)
    raw.iloc[:60].to_csv(folder / "part-1.csv", index=False)
    second = raw.iloc[60:].copy()
    second.loc[second.index[0], "created_at"] = "not a date"
    second.to_csv(folder / "part-2.csv", index=False)
    (folder / "part-3.parquet").write_bytes(b"PAR1 this is not parquet")
    messages = pd.read_csv(archive / "messages.csv", dtype=str)
    orphan = messages.iloc[[0]].assign(ticket_id="NO-SUCH-TICKET", message_id="M-ORPHAN")
    pd.concat([messages, orphan]).to_csv(tmp_path / "messages.csv", index=False)
    out = tmp_path / "out"
    inputs = ScoreInputs(tickets=str(folder), messages=str(tmp_path / "messages.csv"))
    # a file that cannot be read stops the run (exit 2 on the command line), naming it and the way round it
    with pytest.raises(UnreadableFileError, match="part-3.parquet.*skip_unreadable"):
        run_score(inputs, out=out, options=HeadOptions(skip=("topic", "qa")), chunk_rows=50)
    summary = run_score(replace(inputs, skip_unreadable=True), out=out, options=HeadOptions(skip=("topic", "qa")),
                        chunk_rows=50)
    counts = summary.manifest["counts"]
    assert counts["tickets"]["used"] == N_TICKETS - 1 and counts["tickets"]["quarantined"] == 1
    assert [Path(f["source"]).name for f in counts["tickets"]["unreadable_files"]] == ["part-3.parquet"]
    assert counts["messages"]["quarantined"] >= 1
    quarantine = pd.read_csv(out / "quarantine" / "tickets.csv", dtype=str)
    assert "created_at is not a valid datetime" in " | ".join(quarantine["_reason"])
    q_messages = pd.read_csv(out / "quarantine" / "messages.csv", dtype=str)
    assert "M-ORPHAN" in set(q_messages["message_id"])


def test_other_options_in_the_same_folder_need_overwrite(archive, tmp_path):
    out = tmp_path / "out"
    opts = HeadOptions(skip=("topic", "qa", "sentiment"))
    run_score(_inputs(archive), out=out, options=opts, chunk_rows=60, limit=30)
    again = run_score(_inputs(archive), out=out, options=opts, chunk_rows=60, limit=30)
    assert "already holds this complete run" in again.notes[0]
    with pytest.raises(ConfigError, match="overwrite=True"):
        run_score(_inputs(archive), out=out, options=opts, chunk_rows=60, limit=40)
    summary = run_score(_inputs(archive), out=out, options=opts, chunk_rows=60, limit=40, overwrite=True)
    assert summary.manifest["counts"]["tickets"]["used"] == 40
    assert summary.manifest["counts"]["tickets"]["skipped_by_limit"] == N_TICKETS - 40


def test_cli_reports_counts_and_refuses_a_broken_scorecard(archive, tmp_path, capsys):
    bad = tmp_path / "bad.yaml"
    bad.write_text("name: x\nscripts: [{id: s, steps: [{id: a, bogus: 1}]}]\n")
    code = main(["score", "--tickets", str(archive / "tickets.csv"), "--out", str(tmp_path / "o1"),
                 "--scorecard", str(bad)])
    assert code != 0 and not (tmp_path / "o1").exists()
    assert main(["score", "--archive", str(archive), "--out", str(tmp_path / "o2"), "--limit", "25",
                 "--skip", "topic", "--fast"]) == 0
    err = capsys.readouterr().err
    assert "tickets: read 25, used 25, quarantined 0, skipped by --limit 95" in err
    assert "mentions: read 400, used 400" in err and "accounts: read" in err
    assert "tickets/s end to end" in err


def test_cli_refuses_an_unknown_encoder_before_reading_data(archive, tmp_path, capsys):
    code = main(["score", "--archive", str(archive), "--out", str(tmp_path / "o"), "--encoder", "minilm-l9"])
    assert code == 2 and not (tmp_path / "o").exists()
    assert "Unknown encoder 'minilm-l9'" in capsys.readouterr().err


@pytest.mark.skipif(not (STUDENT_DIR / "student.safetensors").is_file(), reason="no shipped student encoder")
def test_score_runs_every_head_on_the_student_encoder(archive, tmp_path):
    out = tmp_path / "o"
    assert main(["-q", "score", "--archive", str(archive), "--out", str(out), "--limit", "30", "--skip", "topic",
                 "--scorecard", "general_support", "--encoder", "minilm-l2"]) == 0
    manifest = json.loads((out / "manifest.json").read_text())
    assert manifest["models"]["encoder"].startswith("minilm-l2: MiniLMEncoder(")
    tickets = read_scored(out, tables=["tickets"]).tickets
    assert len(tickets) == 30 and tickets["request_type"].notna().all()
    # score's default sentiment model is the frozen head, which reads the vectors of the run's encoder; mentions
    # go through it on the run's encoder too (they used to be scored on the default teacher)
    from cxlens.nlp.sentiment import load_sentiment_model, score_sentiment

    assert "'frozen'" in manifest["models"]["sentiment"]
    mentions = pd.read_parquet(out / "mentions.parquet")
    assert len(mentions)
    student = score_sentiment(mentions["text"].tolist(), model=load_sentiment_model("frozen", encoder="minilm-l2"))
    assert list(mentions["sentiment"]) == list(student["sentiment"])
    assert mentions["sentiment_score"].round(5).tolist() == student["sentiment_score"].round(5).tolist()


def test_qa_steps_carry_the_evidence_span_of_each_found_step(reference_run):
    _, scored = reference_run
    steps, messages = scored.qa_steps, scored.messages.set_index("message_id")
    found = steps["found"].astype(bool)
    assert found.any() and (steps.loc[found, "evidence"] != "").all() and (steps.loc[~found, "evidence"] == "").all()
    for row in steps[found].head(30).itertuples():
        assert row.evidence in messages.loc[row.evidence_message_id, "text"]
        # the audit trail: the sentence around the span, what found it and its score
        assert row.evidence in row.evidence_sentence and row.evidence_sentence in messages.loc[row.evidence_message_id, "text"]
        assert row.evidence_fired and 0.0 <= row.evidence_score <= 1.0
    assert steps.loc[~found, "evidence_score"].isna().all() and (steps.loc[~found, "evidence_fired"] == "").all()


def test_ctrl_c_stops_with_130_and_says_how_to_continue(archive, tmp_path):
    out = tmp_path / "out"
    # a terminal's Ctrl-C: SIGINT with Python's default handler (a background shell may have it ignored)
    code = ("import signal, sys; signal.signal(signal.SIGINT, signal.default_int_handler); "
            "from cxlens.cli import main; sys.exit(main(sys.argv[1:]))")
    args = ["-q", "score", "--tickets", str(archive / "tickets.csv"), "--messages", str(archive / "messages.csv"),
            "--out", str(out), "--chunk-rows", "20", "--skip", "topic"]
    proc = subprocess.Popen([sys.executable, "-c", code, *args], stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
                            text=True)
    deadline = time.time() + 120
    while time.time() < deadline and proc.poll() is None:
        if (out / "tickets").is_dir() and list((out / "tickets").glob("part-*.parquet")):
            break
        time.sleep(0.2)
    proc.send_signal(signal.SIGINT)
    err = proc.communicate(timeout=120)[1]
    manifest = json.loads((out / "manifest.json").read_text())
    assert manifest["status"] != "complete", "the run finished before Ctrl-C"
    assert proc.returncode == 130 and "rerun the same command to continue" in err
    assert main(args) == 0
    assert len(_tickets(out)) == N_TICKETS


def test_every_quarantined_row_is_in_the_quarantine_file_even_from_all_bad_chunks(archive, tmp_path):
    raw = pd.read_csv(archive / "tickets.csv", dtype=str).head(40)
    raw.loc[10:29, "created_at"] = "never"          # chunk 1 (rows 10-19) all bad, chunk 2 (20-29) all bad
    raw.to_csv(tmp_path / "tickets.csv", index=False)
    summary = run_score(ScoreInputs(tickets=str(tmp_path / "tickets.csv")), out=tmp_path / "out",
                        options=HeadOptions(skip=("topic", "qa", "sentiment", "request_type")), chunk_rows=10)
    counts = summary.manifest["counts"]["tickets"]
    assert (counts["used"], counts["quarantined"]) == (20, 20)
    quarantine = pd.read_csv(tmp_path / "out" / "quarantine" / "tickets.csv", dtype=str)
    assert sorted(quarantine["ticket_id"]) == sorted(raw.loc[10:29, "ticket_id"])


class _CountingEncoder:
    """A stand-in encoder that counts the texts it encodes (vectors: a hash of the text)."""

    dim = 8

    def __init__(self, name: str) -> None:
        self.name = name
        self.encoded: list[str] = []

    def encode(self, texts):
        import numpy as np

        self.encoded += list(texts)
        return np.array([[hash((self.name, t, i)) % 97 for i in range(self.dim)] for t in texts], dtype=np.float32)


class _Head:
    """A text component stand-in: reads the vectors of the encoder it declares, labels by their first value."""

    def __init__(self, encoder) -> None:
        self.encoder = encoder
        self.seen = None

    def text_encoder(self):
        return self.encoder

    def annotate(self, X):
        self.seen = X.vectors(self.encoder)
        return pd.DataFrame({"label": ["refund"] * len(X), "id": [1] * len(X), "confidence": self.seen[:, 0]})


@pytest.mark.parametrize("own_encoder", [True, False])
def test_score_chunk_gives_each_head_the_vectors_of_the_encoder_it_declares(own_encoder):
    from cxlens.pipelines.score import ScoreHeads, scored_ticket_chunk

    tickets = pd.DataFrame({"ticket_id": ["t1", "t2", "t3"],
                            "text": ["refund please", "where is my parcel", "refund please"]})
    shared, tuned = _CountingEncoder("shared"), _CountingEncoder("tuned")
    request_type, topic = _Head(tuned if own_encoder else shared), _Head(shared)
    heads = ScoreHeads(options=HeadOptions(skip=("qa", "sentiment")), encoder=shared, request_type=request_type,
                       topic=topic)
    out, _, _ = scored_ticket_chunk(tickets, None, heads)
    assert list(out["request_type"]) == ["refund"] * 3 and list(out["topic_id"]) == [1] * 3
    # each distinct text is encoded once per encoder, however many heads read it
    assert sorted(shared.encoded) == ["refund please", "where is my parcel"]
    assert sorted(tuned.encoded) == (["refund please", "where is my parcel"] if own_encoder else [])
    assert (request_type.seen is topic.seen) is (not own_encoder)


def test_score_chunk_rows_do_not_depend_on_a_store_carried_over_from_earlier_chunks():
    from cxlens.nlp import VectorStore
    from cxlens.pipelines.score import ScoreHeads, score_chunk

    first = pd.DataFrame({"ticket_id": ["t1", "t2"], "text": ["refund please", "cancel my plan"]})
    second = pd.DataFrame({"ticket_id": ["t3", "t4"], "text": ["cancel my plan", "parcel is late"]})
    encoder = _CountingEncoder("shared")
    heads = ScoreHeads(options=HeadOptions(skip=("qa", "sentiment", "topic")), encoder=encoder,
                       request_type=_Head(encoder))
    alone, _ = score_chunk(second, None, heads)
    store = VectorStore()
    score_chunk(first, None, heads, store)
    encoder.encoded.clear()
    carried, _ = score_chunk(second, None, heads, store)
    pd.testing.assert_frame_equal(alone["tickets"], carried["tickets"])
    assert encoder.encoded == ["parcel is late"]  # "cancel my plan" came from the run's store


def test_mentions_reuse_the_runs_heads_or_load_only_the_sentiment_model(monkeypatch):
    from cxlens.pipelines.score import _heads as module

    loads: list[HeadOptions] = []

    def fake_load(options):
        loads.append(options)
        return module.ScoreHeads(options=options, sentiment=None if "sentiment" in options.skip else object())

    monkeypatch.setattr(module, "_LOADED", {})
    monkeypatch.setattr(module, "_load_heads", fake_load)
    run = HeadOptions(scorecard="general_support", topic_model="topics/")
    # a resumed run (or Spark's driver): the chunks' heads were never loaded here, so only sentiment is
    heads = module.mention_heads(run)
    assert heads.sentiment is not None and loads[-1].skip == ("qa", "request_type", "topic")
    assert (loads[-1].scorecard, loads[-1].topic_model) == (run.scorecard, run.topic_model)  # same run otherwise
    # the chunks were scored in this process: their heads are reused, nothing is loaded
    chunk_heads = module.score_heads(run)
    n = len(loads)
    assert module.mention_heads(run) is chunk_heads and len(loads) == n
    # --skip sentiment leaves the chunks without sentiment, not the mentions
    skipped = HeadOptions(skip=("sentiment",))
    module.score_heads(skipped)
    assert module.mention_heads(skipped).sentiment is not None


def test_score_chunk_without_any_ticket_text_gives_null_columns():
    from cxlens.pipelines.score import ScoreHeads, scored_ticket_chunk

    tickets = pd.DataFrame({"ticket_id": ["t1", "t2"], "text": [None, None]})
    encoder = _CountingEncoder("shared")
    heads = ScoreHeads(options=HeadOptions(skip=("qa", "sentiment")), encoder=encoder, request_type=_Head(encoder),
                       topic=_Head(encoder))
    out, _, _ = scored_ticket_chunk(tickets, None, heads)
    assert out["request_type"].isna().all() and out["topic_id"].isna().all() and encoder.encoded == []
