"""``cxlens kpis compute`` reads its tables in chunks (pipelines/_kpi_stream.py): the same counts, quarantine
reasons and KPI values as loading every table whole, on an archive with bad rows that cross chunk borders."""

from __future__ import annotations

import json
import math

import numpy as np
import pandas as pd
import pytest

from cxlens.cli import main
from cxlens.dataset import load_dataset
from cxlens.example_data import write_example_archive
from cxlens.io import REASON_COL, reason_counts
from cxlens.metrics import compute_kpis
from cxlens.pipelines._kpi_stream import streamed_kpi_tables
from cxlens.pipelines.kpi_report import kpi_tables

TABLES = ("tickets", "messages", "accounts", "surveys", "mentions")


def _spoilt(folder, fmt: str) -> dict[str, str]:
    """The example archive with bad rows everywhere, some of them repeats far from their first occurrence."""
    written = write_example_archive(folder / "clean", n_tickets=600, seed=3, fmt="csv")
    frames = {t: pd.read_csv(written[t], dtype=str, keep_default_na=False) for t in TABLES}
    _score(frames)
    t, m, a = frames["tickets"], frames["messages"], frames["accounts"]
    frames["tickets"] = pd.concat([t, t.iloc[[5, 300]], t.iloc[[7]].assign(created_at="not a date"),
                                   t.iloc[[8]].assign(ticket_id="T\tbad")], ignore_index=True)
    frames["messages"] = pd.concat([m.iloc[:50], m.iloc[[10]], m.iloc[50:], m.iloc[[3, 900]],  # repeats
                                    m.iloc[[4]].assign(ticket_id="no-such-ticket", message_id="orphan-1"),
                                    m.iloc[[6]].assign(author_role="robot", message_id="bad-role"),
                                    m.iloc[[12]].assign(message_id="")], ignore_index=True)
    frames["accounts"] = pd.concat([a, a.iloc[[2]]], ignore_index=True)
    frames["surveys"] = pd.concat([frames["surveys"], frames["surveys"].iloc[[1]].assign(score="99")],
                                  ignore_index=True)
    out = folder / fmt
    out.mkdir()
    paths = {}
    for name, frame in frames.items():
        path = out / f"{name}.{fmt}"
        frame.to_csv(path, index=False) if fmt == "csv" else frame.to_parquet(path, index=False)
        paths[name] = str(path)
    return paths


def _score(frames: dict[str, pd.DataFrame]) -> None:
    """The columns ``cxlens score`` adds, so that the AI-derived KPIs are compared too."""
    rng = np.random.default_rng(3)
    t, m, a = frames["tickets"], frames["mentions"], frames["accounts"]
    labels = np.array(["negative", "neutral", "positive", None], dtype=object)
    t["sentiment"] = labels[rng.integers(0, 4, len(t))]
    t["topic"] = np.array(["billing", "login", "delivery", None], dtype=object)[rng.integers(0, 4, len(t))]
    t["request_type"] = np.array(["question", "complaint", None], dtype=object)[rng.integers(0, 3, len(t))]
    t["script_adherence"] = np.where(rng.random(len(t)) < 0.2, np.nan, rng.uniform(0, 100, len(t)))
    t["auto_fail"] = pd.array(np.where(rng.random(len(t)) < 0.1, None, rng.random(len(t)) < 0.3), dtype="boolean")
    t["csat_good_probability"] = np.where(rng.random(len(t)) < 0.3, np.nan, rng.random(len(t)))
    m["sentiment"] = labels[rng.integers(0, 4, len(m))]
    m["is_question"] = rng.random(len(m)) < 0.4
    a["churn_probability"] = rng.random(len(a))
    a["health_score"] = rng.uniform(0, 100, len(a))
    a["health_band"] = np.array(["good", "average", "poor"], dtype=object)[rng.integers(0, 3, len(a))]
    a["mrr_start"] = pd.to_numeric(a["mrr"]) * rng.uniform(0.8, 1.2, len(a))
    a["orders"] = rng.integers(0, 4, len(a))


def _close(x, y) -> bool:
    if isinstance(x, float) and isinstance(y, float):
        return math.isclose(x, y, rel_tol=1e-9, abs_tol=1e-12)
    if isinstance(x, dict) and isinstance(y, dict):
        return x.keys() == y.keys() and all(_close(x[k], y[k]) for k in x)
    if isinstance(x, list) and isinstance(y, list):
        return len(x) == len(y) and all(_close(i, j) for i, j in zip(x, y))
    return x == y


@pytest.mark.parametrize("fmt", ["csv", "parquet"])
def test_streamed_tables_give_the_loaded_tables_figures(tmp_path, fmt):
    paths = _spoilt(tmp_path, fmt)
    whole = load_dataset(**paths)
    tables, checks = streamed_kpi_tables(paths, out=tmp_path / "q", chunk_rows=250)
    assert [c.as_row() for c in checks] == whole.summary()
    assert sum(c.quarantined for c in checks) == whole.n_quarantined() == 11
    for check in checks:
        assert check.reasons == reason_counts(whole.tables[check.table].quarantine), check.table
        if check.quarantined:  # every set-aside row is in its file, with its reason
            written = pd.read_csv(check.quarantine_file, dtype=str)
            assert len(written) == check.quarantined and written[REASON_COL].notna().all()
    assert "text" not in tables.tickets and "subject" not in tables.tickets and tables.messages is None
    for by, period in (((), None), (("agent_id",), None), (("channel",), "month")):
        a = compute_kpis(kpi_tables(whole), by=by, period=period).to_dict()
        b = compute_kpis(tables, by=by, period=period).to_dict()
        assert a["skipped"] == b["skipped"]
        if fmt == "parquet":  # typed scored columns: every KPI is computed
            assert not a["skipped"], a["skipped"]
        assert _close(a["kpis"], b["kpis"]) and _close(a["groups"], b["groups"]), (by, period)


def test_repeated_message_ids_count_once(tmp_path):
    """A message repeated in a later chunk is set aside, so a ticket's agent replies are not counted twice."""
    paths = _spoilt(tmp_path, "csv")
    tables, checks = streamed_kpi_tables(paths, out=tmp_path / "q", chunk_rows=100)
    messages = next(c for c in checks if c.table == "messages")
    assert messages.reasons["duplicate message_id (the first occurrence is kept)"] == 3
    assert messages.reasons["ticket_id is not in the tickets table"] == 1
    whole = load_dataset(**paths)
    assert tables.tickets["agent_replies"].equals(whole.tickets["agent_replies"])


def test_kpis_compute_command_streams_and_reports_counts(tmp_path, capsys):
    paths = _spoilt(tmp_path, "parquet")
    out = tmp_path / "report" / "kpis.json"
    args = [f"--{t}={p}" for t, p in paths.items()]
    assert main(["kpis", "compute", *args, "--chunk-rows", "200", "--format", "json", "--out", str(out)]) == 0
    err = capsys.readouterr().err
    assert "messages: read" in err and "quarantined rows written to" in err
    report = json.loads(out.read_text())
    whole = load_dataset(**paths)
    assert _close(report["kpis"], compute_kpis(kpi_tables(whole)).to_dict()["kpis"])
    assert (out.parent / "quarantine" / "messages.csv").is_file()


def test_grouping_by_a_column_no_schema_declares(tmp_path):
    """Columns no KPI reads are not kept, unless the report is grouped by them."""
    paths = _spoilt(tmp_path, "parquet")
    plain, _ = streamed_kpi_tables(paths, out=tmp_path / "q1")
    assert "true_sentiment" not in plain.tickets and "sentiment" in plain.tickets
    grouped, _ = streamed_kpi_tables(paths, out=tmp_path / "q2", by=["true_sentiment"])
    whole = load_dataset(**paths)
    a = compute_kpis(kpi_tables(whole), by=["true_sentiment"]).to_dict()
    b = compute_kpis(grouped, by=["true_sentiment"]).to_dict()
    assert len(a["groups"]) >= 3 and _close(a["groups"], b["groups"])


def _same_as_loading(paths, tmp_path, **kwargs):
    whole = load_dataset(**paths)
    tables, checks = streamed_kpi_tables(paths, out=tmp_path / "q", chunk_rows=100, **kwargs)
    assert [c.as_row() for c in checks] == whole.summary()
    for check in checks:
        assert check.reasons == reason_counts(whole.tables[check.table].quarantine), check.table
    assert _close(compute_kpis(kpi_tables(whole)).to_dict()["kpis"], compute_kpis(tables).to_dict()["kpis"])
    return checks


def test_columns_no_kpi_reads_are_still_validated(tmp_path):
    """A message author or mention author with a control character is quarantined, as loading whole does."""
    paths = _spoilt(tmp_path, "csv")
    m = pd.read_csv(paths["messages"], dtype=str, keep_default_na=False)
    m.loc[[20, 400], "author_id"] = "agent\x017"
    m.to_csv(paths["messages"], index=False)
    mentions = pd.read_csv(paths["mentions"], dtype=str, keep_default_na=False)
    mentions.loc[[3], "author"] = "bob\x01"
    mentions.to_csv(paths["mentions"], index=False)
    checks = _same_as_loading(paths, tmp_path)
    assert {c.table: c.quarantined for c in checks}["mentions"] == 1


def test_messages_without_tickets_and_messages_all_orphans(tmp_path):
    paths = _spoilt(tmp_path, "csv")
    alone = {k: v for k, v in paths.items() if k != "tickets"}
    checks = _same_as_loading(alone, tmp_path / "alone")
    assert next(c for c in checks if c.table == "messages").reasons[
        "duplicate message_id (the first occurrence is kept)"] == 3
    m = pd.read_csv(paths["messages"], dtype=str, keep_default_na=False)
    m["ticket_id"] = "zzz"
    m.to_csv(paths["messages"], index=False)
    _same_as_loading(paths, tmp_path / "orphans")          # every message an orphan: quarantined, KPIs computed


def test_a_folder_whose_files_differ_and_headers_in_errors(tmp_path):
    from cxlens.errors import DuplicateColumnsError, MissingColumnsError

    paths = _spoilt(tmp_path, "csv")
    t = pd.read_csv(paths["tickets"], dtype=str, keep_default_na=False)
    folder = tmp_path / "tickets"
    folder.mkdir()
    t.iloc[:400].to_csv(folder / "a.csv", index=False)
    t.iloc[400:].drop(columns=["created_at"]).to_csv(folder / "b.csv", index=False)
    checks = _same_as_loading({**paths, "tickets": str(folder)}, tmp_path / "f")
    assert next(c for c in checks if c.table == "tickets").reasons["created_at is empty"] == len(t) - 400
    renamed = tmp_path / "renamed.csv"
    t.rename(columns={"ticket_id": "Ticket ID"}).to_csv(renamed, index=False)
    with pytest.raises(MissingColumnsError, match="Ticket ID"):
        streamed_kpi_tables({"tickets": str(renamed)}, out=tmp_path / "q2")
    with pytest.raises(DuplicateColumnsError):
        streamed_kpi_tables({"tickets": paths["tickets"]}, out=tmp_path / "q3", mapping={"subject": "text"})


def test_csat_coverage_with_integer_ticket_ids():
    from cxlens.metrics import make_tables

    tickets = pd.DataFrame({"ticket_id": [1, 2, 3], "created_at": pd.to_datetime(["2024-01-01"] * 3, utc=True),
                            "csat": [5.0, None, 3.0]})
    assert compute_kpis(make_tables(tickets=tickets)).kpis["csat_coverage"] == pytest.approx(200 / 3)
