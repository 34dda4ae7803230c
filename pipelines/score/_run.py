"""``cxlens score``: score a ticket archive with every pipeline whose inputs are present.

Stages, each recorded in ``manifest.json`` as it finishes, so a rerun of the same command after a
crash or Ctrl-C continues where the last run stopped (no row scored twice, none lost):

1. **partition** -- stream tickets and messages into chunks of whole conversations
   (:mod:`cxlens.pipelines.score._partition`); quarantine bad rows.
2. **topic model** -- the ``--topic-model`` given, or one fitted on a sample of the first chunks'
   customer texts and saved in ``topic_model/``.
3. **chunks** -- for each chunk: derive ticket fields, sentiment of customer messages, request type,
   topic and ticket sentiment, script QA (:mod:`cxlens.pipelines.score._heads`); write
   ``tickets/part-k.parquet`` etc. atomically, then mark chunk *k* done.
4. **mentions**, **accounts** (churn and health over the scored tickets), **kpis** (``kpis.json``).
5. **finish** -- merge the quarantine parts, reconcile the counts, ``status: complete``.

The run holds its folder throughout (:mod:`cxlens.pipelines.score._folder`): checked, locked against a
second run, never an input; ``overwrite`` removes only what a run writes. The output layout is
documented in docs/score-output.md. Nothing here parses arguments or prints.
"""

from __future__ import annotations

import functools
import json
import logging
import os
import shutil
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import pandas as pd

from cxlens._csv_safety import write_csv
from cxlens._memory import give_back_memory
from cxlens.nlp import VectorStore
from cxlens.errors import ConfigProblem, InvalidConfigError
from cxlens.pipelines.score._folder import MANIFEST, claimed_output, read_paths, run_fingerprint, run_settings, \
    start_manifest, write_json
from cxlens.pipelines.score._heads import HeadOptions, customer_texts, mention_heads, score_heads, \
    scored_messages, scored_ticket_chunk
from cxlens.pipelines.score._partition import Partition, TableCounts, partition_inputs, quarantine_part

__all__ = ["ScoreInputs", "ScoreSummary", "chunk_files", "mark_chunk_done",
           "read_chunk", "run_score", "score_chunk", "score_inputs_from"]

log = logging.getLogger(__name__)
Progress = Callable[[str, int, int | None], None]
ChunkScorer = Callable[..., int]
TEXT_COLUMNS = ("text", "subject", "customer_text")


@dataclass(frozen=True)
class ScoreInputs:
    """Paths of the input tables (tickets required) and how to read them.

    ``date_format`` / ``dates_between``: how timestamps are read and which are plausible
    (:class:`cxlens.io.ValueRules`); ``follow_symlinks``: read links inside an input folder; ``skip_unreadable``:
    score without the part of a file that cannot be read (by default such a file stops the run)."""

    tickets: str
    messages: str | None = None
    mentions: str | None = None
    accounts: str | None = None
    surveys: str | None = None
    mapping: tuple[tuple[str, str], ...] = ()
    encoding: str = "utf-8"
    date_format: str | None = None
    dates_between: tuple[str, str] | str | None = None
    follow_symlinks: bool = False
    skip_unreadable: bool = False

    def rules(self):
        """The :class:`cxlens.io.ValueRules` of ``date_format`` and ``dates_between``."""
        from cxlens.io import ValueRules

        return ValueRules(date_format=self.date_format, dates_between=self.dates_between)

    def paths(self) -> dict[str, str]:
        return {k: v for k, v in (("tickets", self.tickets), ("messages", self.messages),
                                  ("mentions", self.mentions), ("accounts", self.accounts),
                                  ("surveys", self.surveys)) if v is not None}


@dataclass
class ScoreSummary:
    """What a run did (the manifest, plus where things are)."""

    out: Path
    manifest: dict[str, Any]
    resumed_chunks: int = 0
    notes: list[str] = field(default_factory=list)


# ---------------------------------------------------------------- manifest


def _save(out: Path, manifest: dict) -> None:
    write_json(out / MANIFEST, manifest)


def _write_part(frame: pd.DataFrame, path: Path) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(path.name + ".tmp")
    frame.to_parquet(tmp, index=False)
    os.replace(tmp, path)


# ---------------------------------------------------------------- stages


def chunk_files(work: Path, k: int) -> tuple[Path, list[Path]]:
    """The partition files of chunk ``k``: its tickets file and its message files (maybe none)."""
    folder = work / "messages" / f"chunk-{k:05d}"
    return work / "tickets" / f"chunk-{k:05d}.parquet", sorted(folder.glob("m-*.parquet")) if folder.is_dir() else []


def read_chunk(tickets: Any, messages: list[Any]) -> tuple[pd.DataFrame, pd.DataFrame | None]:
    """One chunk's frames from its files (paths or file-like objects, as :func:`chunk_files` lists them)."""
    frame = pd.read_parquet(tickets)
    return frame, pd.concat([pd.read_parquet(p) for p in messages], ignore_index=True) if messages else None


def _chunk_frames(work: Path, k: int) -> tuple[pd.DataFrame, pd.DataFrame | None]:
    return read_chunk(*chunk_files(work, k))


#: Vectors the local engine keeps across chunks (about 1.5 KB each for 384 dimensions).
RUN_STORE_SIZE = 50_000


def score_chunk(tickets: pd.DataFrame, messages: pd.DataFrame | None, heads,
                store: VectorStore | None = None) -> tuple[dict[str, pd.DataFrame], pd.DataFrame | None]:
    """Score one chunk as every engine does: ``({table: frame}, duplicate messages set aside)``.

    The tables are the parts of ``PART_TABLES`` this chunk has (tickets always). ``store`` carries vectors
    between the chunk's batches (and, when the engine keeps it, from earlier chunks); a vector depends on its
    text alone, so the rows depend on this chunk alone either way. ``None``: a store for this chunk only.
    """
    store = VectorStore() if store is None else store
    dups = None
    if messages is not None:
        from cxlens.dataset import derive_ticket_fields

        messages, dups = _drop_duplicate_messages(messages)
        tickets = derive_ticket_fields(tickets, messages)
        messages = scored_messages(messages, heads, store)
    scored, conversations, steps = scored_ticket_chunk(tickets, messages, heads, store)
    tables = {"tickets": scored, "messages": messages, "qa_conversations": conversations, "qa_steps": steps}
    return {name: frame for name, frame in tables.items() if frame is not None}, dups


def mark_chunk_done(out: Path, manifest: dict, k: int, *, duplicates: int | None, seconds: float) -> None:
    """Record chunk ``k`` (its parts already written) as done in the manifest, and save it.

    ``duplicates``: duplicate messages quarantined in this chunk (``None``: the chunk has no messages).
    """
    chunks = manifest["chunks"]
    chunks["done"] = sorted(set(chunks.get("done", [])) | {k})
    chunks.setdefault("duplicate_messages", {})
    if duplicates is not None:
        chunks["duplicate_messages"][str(k)] = duplicates
    manifest["timings"].setdefault("chunks_s", {})[str(k)] = round(seconds, 3)
    _save(out, manifest)


def fitted_topic_model(out: Path, work: Path, partition: Partition, options: HeadOptions, *,
                       sample: int, store: VectorStore | None = None) -> tuple[str | None, str | None]:
    """Fit a topic model on up to ``sample`` customer texts of the first chunks; ``(folder, note)``.

    ``store``: the run's :class:`~cxlens.nlp.VectorStore`; the chunks then reuse the sample's vectors."""
    from cxlens.nlp import Texts
    from cxlens.nlp.topics import TopicModel

    texts: list[str] = []
    for k in range(partition.chunks):
        tickets, messages = _chunk_frames(work, k)
        texts += customer_texts(tickets, messages).dropna().tolist()
        if len(texts) >= sample:
            break
    texts = texts[:sample]
    if len(texts) < 50:
        return None, f"Topics skipped: only {len(texts)} customer texts (a topic model needs at least 50)."
    model = TopicModel(encoder=options.encoder, random_state=0).fit(Texts(texts, store=store))
    folder = out / "topic_model"
    model.save(folder)
    return str(folder), None


def _score_chunks(out: Path, work: Path, manifest: dict, partition: Partition, options: HeadOptions,
                  progress: Progress, *, after_chunk: Callable[[int], None] | None,
                  store: VectorStore | None = None) -> int:
    """The local engine's chunk stage: the chunks not done yet, one after the other, in this process.

    One :class:`~cxlens.nlp.VectorStore` (the run's) serves the whole stage: a text already encoded for the topic
    sample or an earlier chunk is not encoded again (vectors depend on the text alone: this changes no row)."""
    heads = score_heads(options)
    store = VectorStore(max_size=RUN_STORE_SIZE) if store is None else store
    manifest["models"] = heads.versions
    manifest["engine"] = {"name": "local"}
    done = set(manifest["chunks"].get("done", []))
    total = sum(partition.chunk_sizes)
    rows_done = sum(partition.chunk_sizes[k] for k in done)
    progress("score", rows_done, total)
    for k in range(partition.chunks):
        if k in done:
            continue
        started = time.perf_counter()
        tables, dups = score_chunk(*_chunk_frames(work, k), heads, store)
        duplicates = None if dups is None else quarantine_part(dups, work, "messages", "duplicates", k)
        for name, frame in tables.items():
            _write_part(frame, out / name / f"part-{k:05d}.parquet")
        # distinct texts encoded by this process, and texts whose vectors came from the store (a resumed run counts
        # from its own start)
        manifest["vectors"] = {"encoded": store.misses, "reused": store.hits}
        mark_chunk_done(out, manifest, k, duplicates=duplicates, seconds=time.perf_counter() - started)
        rows_done += partition.chunk_sizes[k]
        progress("score", rows_done, total)
        if after_chunk is not None:
            after_chunk(k)
    return len(done)


def _drop_duplicate_messages(messages: pd.DataFrame) -> tuple[pd.DataFrame, pd.DataFrame]:
    from cxlens.io import REASON_COL

    if "message_id" not in messages:
        return messages, messages.iloc[0:0]
    dup = messages["message_id"].notna() & messages["message_id"].duplicated(keep="first")
    bad = messages.loc[dup].copy()
    bad[REASON_COL] = "duplicate message_id (the first occurrence is kept)"
    return messages.loc[~dup].reset_index(drop=True), bad


def _small_table(path: str, name: str, inputs: ScoreInputs):
    from cxlens.io import load_table

    return load_table(path, name, mapping=dict(inputs.mapping), encoding=inputs.encoding, allow_empty=True,
                      rules=inputs.rules(), follow_symlinks=inputs.follow_symlinks)


def _scored_tickets_for_models(out: Path, *, only: frozenset[str] | None = None, messages: bool = True,
                               ) -> tuple[pd.DataFrame, pd.DataFrame | None, pd.Timestamp | None]:
    """Every scored ticket without its text columns (``only``: just these columns), the customer messages
    (3 columns) the account features count, and the last message time: what a step of the last stage
    needs, and no more (on big archives the last stage decides the run's peak memory). ``messages=False``:
    the tickets alone."""
    import pyarrow.parquet as pq

    from cxlens.pipelines.score._output import read_parts

    parts = sorted((out / "tickets").glob("part-*.parquet"))
    columns = [c for c in pq.read_schema(parts[0]).names if c not in TEXT_COLUMNS and (only is None or c in only)]
    tickets = read_parts(out / "tickets", columns=columns)
    message_parts = sorted((out / "messages").glob("part-*.parquet")) if (out / "messages").is_dir() else []
    if not message_parts or not messages:
        return tickets, None, None
    last, customer = None, []
    for part in message_parts:  # one read per part; only its customer rows are kept
        frame = pd.read_parquet(part, columns=["ticket_id", "sent_at", "author_role"])
        latest = frame["sent_at"].max()
        last = latest if last is None or latest > last else last
        customer.append(frame[frame["author_role"] == "customer"])
    customer = pd.concat(customer, ignore_index=True)
    give_back_memory()  # what reading the parts freed (Arrow's pool keeps it otherwise)
    return tickets, customer, last


def _accounts_stage(out: Path, work: Path, inputs: ScoreInputs, manifest: dict, tickets: pd.DataFrame,
                    messages: pd.DataFrame | None, last_message: pd.Timestamp | None, surveys: pd.DataFrame | None,
                    kpi_config) -> pd.DataFrame:
    from cxlens.models.features import FeatureTables, default_as_of
    from cxlens.pipelines.accounts import at_risk_review

    loaded = _small_table(inputs.accounts, "accounts", inputs)
    _count_small(manifest, work, loaded)
    accounts = loaded.frame
    # "now" = the day after the last event, counting every message (only customer ones are kept)
    stamps = None if last_message is None else pd.DataFrame({"sent_at": [last_message]})
    as_of = default_as_of(FeatureTables(accounts=accounts, tickets=tickets, messages=stamps, surveys=surveys))
    review = at_risk_review(FeatureTables(accounts=accounts, tickets=tickets, messages=messages, surveys=surveys),
                            config=kpi_config, as_of=as_of)
    keep = [c for c in review.table.columns if c not in accounts.columns or c == "account_id"]
    scored = accounts.merge(review.table[keep], on="account_id", how="left")
    manifest["models"]["churn"] = str(review.model_info.get("trained", review.model_info))
    manifest["accounts_summary"] = review.summary
    _write_part(scored, out / "accounts.parquet")
    return scored


def _csat_stage(out: Path, manifest: dict, tickets: pd.DataFrame, kpi_config) -> pd.DataFrame:
    """Estimated CSAT for every ticket (docs/models/csat.md): ``tickets_csat.parquet``, the manifest's
    ``csat_estimate`` (held-out quality, coverage, whether to trust it) and the tickets with the estimate,
    for the ``csat_estimated`` KPI (columns added in place: the table is not copied). A good rating is the
    ``csat`` KPI's: at or above ``kpi_config.csat_threshold``."""
    from cxlens.pipelines.csat import CSAT_FILE, ESTIMATE_COLUMNS, estimated_csat

    estimate = estimated_csat(tickets, good_threshold=kpi_config.csat_threshold)
    manifest["csat_estimate"] = {"trusted": estimate.trusted, "note": estimate.note, **estimate.metrics}
    if estimate.model is None:
        return tickets
    _write_part(estimate.estimates[["ticket_id", *ESTIMATE_COLUMNS]], out / CSAT_FILE)
    for col in ESTIMATE_COLUMNS[:2]:
        tickets[col] = estimate.estimates[col].to_numpy()
    return tickets


def _count_small(manifest: dict, work: Path, loaded) -> None:
    counts = TableCounts(read=loaded.n_read, used=len(loaded.frame), quarantined=len(loaded.quarantine))
    quarantine_part(loaded.quarantine, work, loaded.name, "read", 0)
    manifest["counts"][loaded.name] = counts.as_dict()


def _finish_quarantine(out: Path, work: Path) -> dict[str, str]:
    parts = sorted((work / "quarantine").glob("*.csv")) if (work / "quarantine").is_dir() else []
    by_table: dict[str, list[Path]] = {}
    for p in parts:
        by_table.setdefault(p.name.split("-")[0], []).append(p)
    written = {}
    for table, files in by_table.items():
        frame = pd.concat([pd.read_csv(f, dtype=str, keep_default_na=False) for f in files], ignore_index=True)
        if not len(frame):
            continue
        path = out / "quarantine" / f"{table}.csv"
        path.parent.mkdir(parents=True, exist_ok=True)
        write_csv(frame, path)
        written[table] = str(path)
    return written


# ---------------------------------------------------------------- the job


def run_score(inputs: ScoreInputs, *, out: str | Path, options: HeadOptions = HeadOptions(), chunk_rows: int = 20_000,
              limit: int | None = None, topic_sample: int = 10_000, fit_topics: bool = True,
              kpi_config=None, overwrite: bool = False, keep_work: bool = False, progress: Progress | None = None,
              after_chunk: Callable[[int], None] | None = None,
              chunk_scorer: ChunkScorer | None = None) -> ScoreSummary:
    """Score an archive into ``out``; rerunning the same call resumes. See the module docstring.

    ``chunk_scorer`` replaces the chunk stage (stage 3), which is all an engine changes: it gets
    ``(out, work, manifest, partition, options, progress, after_chunk=...)``, scores the chunks not
    yet in ``manifest["chunks"]["done"]`` with :func:`score_chunk`, writes their parts, records each
    with :func:`mark_chunk_done` and returns how many chunks were already done. The default is
    this process, one chunk after the other; :mod:`cxlens.pipelines.score._spark` passes Spark's.
    """
    from cxlens.config import KPIConfig

    _check_numbers(chunk_rows=chunk_rows, limit=limit, topic_sample=topic_sample)
    out = Path(out)
    progress = progress or (lambda stage, done, total: None)
    kpi_config = kpi_config or KPIConfig()
    settings = run_settings(inputs, options, kpi_config, chunk_rows=chunk_rows, limit=limit,
                            topic_sample=topic_sample, fit_topics=fit_topics)
    with claimed_output(out, inputs=read_paths(inputs, options)) as claim:
        manifest = claim.manifest = start_manifest(out, run_fingerprint(inputs, settings), overwrite=overwrite)
        return _run_stages(inputs, out, manifest, options=options, chunk_rows=chunk_rows, limit=limit,
                           topic_sample=topic_sample, fit_topics=fit_topics, kpi_config=kpi_config,
                           keep_work=keep_work, progress=progress, after_chunk=after_chunk, chunk_scorer=chunk_scorer)


def _run_stages(inputs: ScoreInputs, out: Path, manifest: dict, *, options: HeadOptions, chunk_rows: int,
                limit: int | None, topic_sample: int, fit_topics: bool, kpi_config, keep_work: bool,
                progress: Progress, after_chunk: Callable[[int], None] | None,
                chunk_scorer: ChunkScorer | None) -> ScoreSummary:
    """The stages of :func:`run_score`, in its locked folder, from where ``manifest`` says the last run stopped."""
    summary = ScoreSummary(out=out, manifest=manifest)
    if manifest.get("status") == "complete":
        summary.notes.append(f"{out} already holds this complete run; nothing to do (overwrite it to score again).")
        return summary
    work = out / "_work"
    stages = manifest["stages"]
    started = time.perf_counter()

    if "partition" not in stages:
        shutil.rmtree(work, ignore_errors=True)
        t0 = time.perf_counter()
        partition = partition_inputs(tickets=inputs.tickets, messages=inputs.messages, work=work,
                                     chunk_rows=chunk_rows, limit=limit, mapping=dict(inputs.mapping),
                                     encoding=inputs.encoding, rules=inputs.rules(),
                                     follow_symlinks=inputs.follow_symlinks,
                                     stop_on_unreadable=not inputs.skip_unreadable, progress=progress)
        stages["partition"] = {"chunks": partition.chunks, "chunk_sizes": partition.chunk_sizes}
        manifest["counts"].update({k: v.as_dict() for k, v in partition.counts.items()})
        manifest["timings"]["partition_s"] = round(time.perf_counter() - t0, 3)
        _save(out, manifest)
    partition = Partition(chunks=stages["partition"]["chunks"], chunk_sizes=stages["partition"]["chunk_sizes"],
                          counts={})

    # the local engine's vectors, from the topic sample to the last chunk (Spark executors keep their own)
    store = VectorStore(max_size=RUN_STORE_SIZE) if chunk_scorer is None else None
    if options.wants("topic") and options.topic_model is None and fit_topics:
        if "topic_model" not in stages:
            t0 = time.perf_counter()
            folder, note = fitted_topic_model(out, work, partition, options, sample=topic_sample, store=store)
            stages["topic_model"] = {"folder": folder, "note": note, "fitted_on": "sample of the first chunks"}
            manifest["timings"]["topic_model_s"] = round(time.perf_counter() - t0, 3)
            _save(out, manifest)
        options = replace(options, topic_model=stages["topic_model"]["folder"])
        if stages["topic_model"]["note"]:
            summary.notes.append(stages["topic_model"]["note"])

    t0 = time.perf_counter()
    scorer = chunk_scorer or functools.partial(_score_chunks, store=store)
    summary.resumed_chunks = scorer(out, work, manifest, partition, options, progress, after_chunk=after_chunk)
    manifest["timings"]["score_s"] = round(manifest["timings"].get("score_s", 0) + time.perf_counter() - t0, 3)
    dup = sum(manifest["chunks"].get("duplicate_messages", {}).values())
    if dup and "messages" in manifest["counts"]:
        manifest["counts"]["messages"]["used"] -= dup
        manifest["counts"]["messages"]["quarantined"] += dup

    t0 = time.perf_counter()
    _downstream(out, work, inputs, manifest, kpi_config, summary, options)
    manifest["timings"]["downstream_s"] = round(time.perf_counter() - t0, 3)
    manifest["quarantine"] = _finish_quarantine(out, work)
    manifest["timings"]["total_s"] = round(manifest["timings"].get("total_s", 0) + time.perf_counter() - started, 3)
    manifest["status"] = "complete"
    manifest["notes"] = summary.notes
    _save(out, manifest)
    if not keep_work:
        shutil.rmtree(work, ignore_errors=True)
    return summary


def _check_numbers(**values: int | None) -> None:
    """Counts must be whole numbers above 0 (``limit`` may be ``None``): checked before anything is read."""
    bad = [ConfigProblem(name, value, "must be a whole number above 0.") for name, value in values.items()
           if not (value is None and name == "limit")
           and (isinstance(value, bool) or not isinstance(value, int) or value <= 0)]
    if bad:
        raise InvalidConfigError(bad, subject="score options")


def _downstream(out: Path, work: Path, inputs: ScoreInputs, manifest: dict, kpi_config,
                summary: ScoreSummary, options: HeadOptions) -> None:
    """Mentions, accounts and the KPI report: small tables, done in one go after the chunks."""
    from cxlens.metrics import compute_kpis, make_tables

    mentions = surveys = accounts = None
    if inputs.mentions:
        from cxlens.pipelines.mentions import scored_mentions

        loaded = _small_table(inputs.mentions, "mentions", inputs)
        _count_small(manifest, work, loaded)
        # the run's sentiment model on the run's encoder, as for the messages (the lexicon needs neither)
        heads = None if options.fast_sentiment else mention_heads(options)
        mentions = scored_mentions(loaded.frame, fast=options.fast_sentiment,
                                   model=None if heads is None else heads.sentiment)
        _write_part(mentions, out / "mentions.parquet")
    if inputs.surveys:
        loaded = _small_table(inputs.surveys, "surveys", inputs)
        _count_small(manifest, work, loaded)
        surveys = loaded.frame
        _write_part(surveys, out / "surveys.parquet")
    if inputs.accounts:
        from cxlens.pipelines.accounts import REVIEW_TICKET_COLUMNS

        # the accounts stage reads only the ticket columns it uses; its tables are freed before the KPIs' are read
        tickets, messages, last_message = _scored_tickets_for_models(out, only=REVIEW_TICKET_COLUMNS)
        accounts = _accounts_stage(out, work, inputs, manifest, tickets, messages, last_message, surveys,
                                   kpi_config)
        del tickets, messages
        give_back_memory()
    # no KPI reads messages: the ticket fields derived from them are on the tickets
    tickets, _, _ = _scored_tickets_for_models(out, messages=False)
    if "csat" in tickets.columns and tickets["csat"].notna().any():
        tickets = _csat_stage(out, manifest, tickets, kpi_config)
    report = compute_kpis(make_tables(tickets=tickets, accounts=accounts, surveys=surveys,
                                      mentions=mentions), config=kpi_config)
    (out / "kpis.json").write_text(json.dumps(report.to_dict(), indent=2, default=str), encoding="utf-8")
    manifest["kpis_computed"] = len(report.kpis)


def score_inputs_from(paths: Mapping[str, str | None], *, mapping: Mapping[str, str] | None = None,
                      encoding: str = "utf-8") -> ScoreInputs:
    """:class:`ScoreInputs` from CLI-style values (``tickets`` required)."""
    if not paths.get("tickets"):
        raise InvalidConfigError([ConfigProblem("tickets", None, "the tickets table is required.")])
    return ScoreInputs(tickets=str(paths["tickets"]), messages=_opt(paths.get("messages")),
                       mentions=_opt(paths.get("mentions")), accounts=_opt(paths.get("accounts")),
                       surveys=_opt(paths.get("surveys")), mapping=tuple(sorted((mapping or {}).items())),
                       encoding=encoding)


def _opt(value: str | None) -> str | None:
    return None if value is None else str(value)
