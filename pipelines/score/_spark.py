"""``cxlens score --engine spark``: the chunk stage of ``cxlens score`` on Apache Spark.

Same inputs, same outputs as the local engine (:mod:`cxlens.pipelines.score._run`), by construction:
:func:`run_score_spark` *is* :func:`~cxlens.pipelines.score._run.run_score` with the chunk stage swapped
(``chunk_scorer``). Partitioning and validation, the topic-model fit (same sample, same model), the
downstream stage (mentions, accounts, KPIs), the manifest and resuming all run the local engine's
code on the driver; only the heavy part, scoring the chunks with the models, runs on executors.

**How a chunk travels.** Each pending chunk is one Spark job of one task: the driver broadcasts
the chunk's partition files (``_work/tickets/chunk-k.parquet``, ``_work/messages/chunk-k/*``) as
bytes; the task is a pandas function (``mapInPandas``) that reads them with the same
:func:`~cxlens.pipelines.score._run.read_chunk`, scores them with the same
:func:`~cxlens.pipelines.score._run.score_chunk`, and returns each output table as Parquet bytes; the
driver writes those bytes as ``tickets/part-k.parquet`` etc. and marks chunk *k* done in the
manifest, as the local engine does. As many chunks run at once as the cluster has task slots (one
job per slot, from a thread pool on the driver), so a slow chunk never holds the others back, and a
crash or Ctrl-C loses only the chunks in flight: rerunning the same command resumes.

So no executor needs the driver's disk: ``--out`` lives on the driver, the executors only need
cxlens installed. Model folders given as paths (``--topic-model``, the fitted ``topic_model/``,
``--request-type-model``, ``--sentiment-model``, a ``--scorecard`` file) are shipped to the
executors as zip archives (``SparkContext.addArchive``) when the master is not local.

**Why not ``mlflow.pyfunc.spark_udf`` or ``predict_batch_udf``.** Both apply a per-row model to a
column and load it once per executor Python worker. Here the unit is a conversation, not a row:
ticket sentiment is the majority of its messages', script QA reads a whole conversation in order,
and all heads share one encoder (and its in-run cache), so a row-wise UDF would need a shuffle by
ticket and a second pass. A pandas function over a whole chunk gets the same "load once per
executor" from :func:`~cxlens.pipelines.score._heads.score_heads`'s per-process cache, because
Spark reuses its Python workers (``spark.python.worker.reuse``): a worker loads the models for
its first chunk and keeps them for the next ones (``manifest["engine"]["model_loads"]``).

Each task gets ``spark.task.cpus`` inference threads (``CXLENS_NUM_THREADS``, unless set), so a
machine's cores are shared by its tasks instead of oversubscribed. See docs/spark.md.
"""

from __future__ import annotations

import hashlib
import io
import json
import logging
import os
import shutil
import sys
import tempfile
import time
import uuid
import warnings
import zipfile
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor, as_completed
from dataclasses import replace
from functools import partial
from pathlib import Path
from typing import Any

import pandas as pd

from cxlens.errors import ConfigError, CxlensError, MissingDependencyError
from cxlens.pipelines.score._run import ScoreInputs, ScoreSummary, chunk_files, mark_chunk_done, read_chunk, run_score, \
    score_chunk
from cxlens.pipelines.score._heads import HeadOptions
from cxlens.pipelines.score._partition import Partition, quarantine_part

__all__ = ["run_score_spark", "spark_session"]

log = logging.getLogger(__name__)
Progress = Callable[[str, int, int | None], None]
RESULT_SCHEMA = "name string, payload binary, rows long"
#: HeadOptions fields that may name a file or folder the executors must read
MODEL_PATHS = ("request_type_model", "request_types", "topic_model", "sentiment_model", "scorecard")


def _check_spark() -> None:
    try:
        import pyspark  # noqa: F401
    except ImportError as exc:
        raise MissingDependencyError(package="pyspark", feature="The Spark engine", extra="spark") from exc
    if not (os.environ.get("JAVA_HOME") or shutil.which("java")):
        raise ConfigError("{engine='spark'} needs a Java runtime (17 or newer) and found none: install one "
                          "(e.g. apt-get install openjdk-17-jre-headless) or set JAVA_HOME; or use {engine='local'}.",
                          params=("engine",))


def spark_session(master: str | None = None, *, ui: bool | None = None) -> tuple[Any, bool]:
    """The active SparkSession, else a new one on ``master`` (default ``local[*]``): ``(session, created)``.

    Settings of a new session: app name ``cxlens-score``, Arrow on, Python workers reused, log level
    WARN; in local mode the driver gets 2 GB, the workers run this Python, and the web UI is off
    (``ui`` overrides). A session created beforehand (e.g. in a notebook) is used as it is.
    """
    _check_spark()
    from pyspark.sql import SparkSession

    # only bytes, strings and ints cross Arrow here, which pandas 3 handles; said once per pandas UDF otherwise
    warnings.filterwarnings("ignore", message="PySpark does not yet fully support pandas", category=FutureWarning)

    active = SparkSession.getActiveSession()
    if active is not None:
        if master and master != active.sparkContext.master:
            log.warning("a SparkSession on %s is already running; using it instead of --master %s",
                        active.sparkContext.master, master)
        return active, False
    local = master is None or master.startswith("local")
    builder = (SparkSession.builder.master(master or "local[*]").appName("cxlens-score")
               .config("spark.sql.execution.arrow.pyspark.enabled", "true")
               .config("spark.python.worker.reuse", "true")
               .config("spark.ui.showConsoleProgress", "false")
               .config("spark.ui.enabled", str(not local if ui is None else ui).lower()))
    if local:
        builder = builder.config("spark.driver.memory", "2g")
        if not os.environ.get("PYSPARK_PYTHON"):
            builder = builder.config("spark.pyspark.python", sys.executable)
    session = builder.getOrCreate()
    session.sparkContext.setLogLevel("WARN")
    return session, True


# ---------------------------------------------------------------- model files


def _ship_models(sc, options: HeadOptions) -> dict[str, tuple[str, str]]:
    """Ship every model path of ``options`` to the executors: ``{field: (SparkFiles name, original path)}``.

    Each path is zipped as ``<tmp>/cxlens-spark-files/<digest>.zip`` (the digest covers the path and its
    newest mtime, so one SparkContext can ship several runs' models without clashes) and added with
    ``SparkContext.addArchive``, which every executor unpacks into its SparkFiles folder. (``addFile`` of a
    folder works in local mode only: a cluster master refuses local directories.)
    """
    shipped = {}
    for name in MODEL_PATHS:
        value = getattr(options, name)
        if not value or not Path(value).exists() or _shipped_name(name, value):
            continue
        src = Path(value).resolve()
        files = sorted(p for p in src.rglob("*") if p.is_file()) if src.is_dir() else [src]
        stamp = max((p.stat().st_mtime_ns for p in files), default=0)
        digest = hashlib.sha1(f"{src}:{stamp}".encode()).hexdigest()[:16]
        staged = Path(tempfile.gettempdir()) / "cxlens-spark-files" / f"{digest}.zip"
        if not staged.exists():
            staged.parent.mkdir(parents=True, exist_ok=True)
            tmp = staged.with_name(f".{digest}-{uuid.uuid4().hex[:8]}.zip")
            with zipfile.ZipFile(tmp, "w", zipfile.ZIP_STORED) as archive:  # model weights barely compress
                for path in files:
                    archive.write(path, Path(src.name) / path.relative_to(src) if src.is_dir() else src.name)
            os.replace(tmp, staged)  # atomic: a run staging the same digest meanwhile wrote the same bytes
        sc.addArchive(str(staged))
        shipped[name] = (f"{staged.name}/{src.name}", str(value))
    return shipped


def _shipped_name(field: str, value: str) -> bool:
    """A sentiment model name (``tuned``, ``frozen``) is the shipped model even where a folder of that name exists
    (:func:`~cxlens.nlp.sentiment._model.is_shipped_model`); a scorecard file wins over a shipped scorecard's name."""
    if field != "sentiment_model":
        return False
    from cxlens.nlp.sentiment import is_shipped_model

    return is_shipped_model(value)


def _localised(options: HeadOptions, shipped: dict[str, tuple[str, str]]) -> tuple[HeadOptions, dict[str, str]]:
    """On an executor: ``options`` pointing at the shipped copies, and ``{copy: original}``."""
    if not shipped:
        return options, {}
    from pyspark import SparkFiles

    copies = {name: os.path.join(SparkFiles.getRootDirectory(), rel) for name, (rel, _) in shipped.items()}
    return replace(options, **copies), {copies[name]: original for name, (_, original) in shipped.items()}


# ---------------------------------------------------------------- on the executors


def _parquet(frame: pd.DataFrame) -> bytes:
    buffer = io.BytesIO()
    frame.to_parquet(buffer, index=False)  # the bytes _write_part would write
    return buffer.getvalue()


def _score_task(payload, options: HeadOptions, shipped: dict[str, tuple[str, str]],
                batches: Iterator[pd.DataFrame]) -> Iterator[pd.DataFrame]:
    """The pandas function of a chunk's task: one chunk in (broadcast), its tables out as Parquet bytes."""
    from cxlens.pipelines.score import _heads as heads_module

    for _ in batches:  # the task's one input row only starts it; the chunk is in ``payload``
        pass
    started = time.perf_counter()
    local, originals = _localised(options, shipped)
    loads = not heads_module.heads_loaded(local)  # this worker's first chunk: it loads the models now
    heads = heads_module.score_heads(local)
    load_s = time.perf_counter() - started
    tickets, messages = payload.value
    tables, dups = score_chunk(*read_chunk(io.BytesIO(tickets), [io.BytesIO(m) for m in messages]), heads)
    rows = [(name, _parquet(frame), len(frame)) for name, frame in tables.items()]
    if dups is not None:
        rows.append(("_duplicates", _parquet(dups), len(dups)))
    versions = dict(heads.versions)
    for copy, original in originals.items():
        versions = {k: v.replace(copy, original) for k, v in versions.items()}
    meta = {"seconds": time.perf_counter() - started, "loaded_models": loads, "load_s": load_s, "pid": os.getpid(),
            "versions": versions}
    rows.append(("_meta", json.dumps(meta).encode(), 0))
    yield pd.DataFrame(rows, columns=["name", "payload", "rows"])


# ---------------------------------------------------------------- on the driver


def _run_chunk(session, work: Path, k: int, options: HeadOptions, shipped: dict, group: str) -> dict[str, Any]:
    """One chunk as one Spark job (run from a driver thread): ``{name: bytes}`` plus ``_meta``."""
    started = time.perf_counter()
    sc = session.sparkContext
    sc.setJobGroup(group, f"cxlens score: chunk {k}", interruptOnCancel=True)
    tickets, messages = chunk_files(work, k)
    payload = sc.broadcast((tickets.read_bytes(), [m.read_bytes() for m in messages]))
    try:
        task = partial(_score_task, payload, options, shipped)
        rows = session.range(0, 1, 1, numPartitions=1).mapInPandas(task, RESULT_SCHEMA).collect()
    finally:
        payload.destroy()
    result = {row["name"]: bytes(row["payload"]) for row in rows}
    result["_meta"] = json.loads(result["_meta"])
    result["_meta"]["job_s"] = time.perf_counter() - started  # broadcast + job + transfers + the task
    return result


class SparkChunkScorer:
    """The ``chunk_scorer`` of :func:`run_score` that runs the chunks on Spark (see the module docstring).

    The SparkSession starts only when a chunk is left to score; :meth:`close` stops it if it was
    started here.
    """

    def __init__(self, master: str | None = None, *, ship_models: bool | None = None,
                 concurrent_chunks: int | None = None) -> None:
        self.master, self.ship_models, self.concurrent_chunks = master, ship_models, concurrent_chunks
        self.session, self.created = None, False

    def close(self) -> None:
        if self.session is not None and self.created:
            self.session.stop()
        self.session, self.created = None, False

    def __call__(self, out: Path, work: Path, manifest: dict, partition: Partition, options: HeadOptions,
                 progress: Progress, *, after_chunk: Callable[[int], None] | None) -> int:
        done = set(manifest["chunks"].get("done", []))
        pending = [k for k in range(partition.chunks) if k not in done]
        total = sum(partition.chunk_sizes)
        rows_done = sum(partition.chunk_sizes[k] for k in done)
        progress("score", rows_done, total)
        if not pending:
            return len(done)
        started = time.perf_counter()
        if self.session is None:
            self.session, self.created = spark_session(self.master)
        sc = self.session.sparkContext
        task_cpus = int(sc.getConf().get("spark.task.cpus", "1"))
        slots = self.concurrent_chunks or max(1, sc.defaultParallelism // task_cpus)
        ship = self.ship_models if self.ship_models is not None else not sc.master.startswith("local")
        shipped = _ship_models(sc, options) if ship else {}
        sc.environment["CXLENS_NUM_THREADS"] = os.environ.get("CXLENS_NUM_THREADS") or str(task_cpus)
        engine = manifest["engine"] = {"name": "spark", "master": sc.master, "spark": self.session.version,
                                       "concurrent_chunks": slots, "threads_per_task": sc.environment[
                                           "CXLENS_NUM_THREADS"], "models_shipped": sorted(shipped),
                                       "model_loads": 0, "model_load_s": 0.0, "python_workers": 0,
                                       "spark_overhead_s": 0.0,
                                       "session_start_s": round(time.perf_counter() - started, 3)}
        workers: set[int] = set()
        group = f"cxlens-score-{uuid.uuid4().hex[:12]}"
        pool = ThreadPoolExecutor(max_workers=min(slots, len(pending)), thread_name_prefix="cxlens-spark")
        futures = {pool.submit(_run_chunk, self.session, work, k, options, shipped, group): k for k in pending}
        try:
            for future in as_completed(futures):
                k = futures[future]
                try:
                    result = future.result()
                except Exception as exc:
                    raise CxlensError(f"Spark engine: chunk {k} failed: {_last_line(exc)} (the chunks done so far "
                                      f"are kept: rerun the same command to resume)") from exc
                meta = result.pop("_meta")
                dups = result.pop("_duplicates", None)
                duplicates = None if dups is None else \
                    quarantine_part(pd.read_parquet(io.BytesIO(dups)), work, "messages", "duplicates", k)
                for name, data in result.items():
                    _write_bytes(data, out / name / f"part-{k:05d}.parquet")
                manifest["models"] = meta["versions"]
                workers.add(meta["pid"])
                engine["model_loads"] += int(meta["loaded_models"])
                engine["model_load_s"] = round(engine["model_load_s"] + meta["load_s"], 3)
                engine["python_workers"] = len(workers)
                engine["spark_overhead_s"] = round(engine["spark_overhead_s"] + meta["job_s"] - meta["seconds"], 3)
                mark_chunk_done(out, manifest, k, duplicates=duplicates, seconds=meta["seconds"])
                rows_done += partition.chunk_sizes[k]
                progress("score", rows_done, total)
                if after_chunk is not None:
                    after_chunk(k)
        except BaseException:
            pool.shutdown(wait=False, cancel_futures=True)
            try:
                sc.cancelJobGroup(group)  # the chunks in flight are lost; a rerun scores them again
            except Exception:  # noqa: BLE001 - e.g. the JVM got the same Ctrl-C and is gone
                log.debug("could not cancel the Spark jobs in flight", exc_info=True)
            raise
        finally:
            pool.shutdown(wait=True)
        return len(done)


def _write_bytes(data: bytes, path: Path) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_bytes(data)
    os.replace(tmp, path)


def _last_line(exc: BaseException) -> str:
    lines = [line.strip() for line in str(exc).splitlines() if line.strip()]
    return lines[-1] if lines else type(exc).__name__


# ---------------------------------------------------------------- the job


def run_score_spark(inputs: ScoreInputs, *, out: str | Path, master: str | None = None,
                    options: HeadOptions = HeadOptions(), chunk_rows: int = 20_000, limit: int | None = None,
                    topic_sample: int = 10_000, fit_topics: bool = True, kpi_config=None, overwrite: bool = False,
                    keep_work: bool = False, progress: Progress | None = None,
                    after_chunk: Callable[[int], None] | None = None, ship_models: bool | None = None,
                    concurrent_chunks: int | None = None) -> ScoreSummary:
    """:func:`~cxlens.pipelines.score._run.run_score` with the chunks scored on Spark; same arguments, same output.

    ``master``: a Spark master URL (default ``local[*]``; ignored when a SparkSession is already
    active). ``ship_models``: ship model paths to the executors (default: when the master is not
    local). ``concurrent_chunks``: chunks in flight (default: the cluster's task slots).
    """
    _check_spark()  # before any work: a missing Java fails here, not after the partition stage
    scorer = SparkChunkScorer(master, ship_models=ship_models, concurrent_chunks=concurrent_chunks)
    try:
        return run_score(inputs, out=out, options=options, chunk_rows=chunk_rows, limit=limit,
                         topic_sample=topic_sample, fit_topics=fit_topics, kpi_config=kpi_config,
                         overwrite=overwrite, keep_work=keep_work, progress=progress, after_chunk=after_chunk,
                         chunk_scorer=scorer)
    finally:
        scorer.close()
