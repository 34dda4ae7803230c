"""cxlens score --engine spark: the same archive through both engines gives the same rows, and Spark runs resume."""

from __future__ import annotations

import json
import math
import os
import shutil
from pathlib import Path

import pandas as pd
import pytest

from cxlens.errors import ConfigError
from cxlens.pipelines.score import ScoreInputs, run_score
from cxlens.pipelines.score import HeadOptions
from cxlens.pipelines.score import read_parts

N_TICKETS = 120
CHUNK_ROWS = 30
OPTIONS = HeadOptions(scorecard="general_support")
# sort keys of the part tables
KEYS = {"tickets": ["ticket_id"], "messages": ["message_id"], "qa_conversations": ["ticket_id"],
        "qa_steps": ["ticket_id", "step"]}


def _spark_missing() -> str | None:
    try:
        import pyspark  # noqa: F401
    except ImportError:
        return "pyspark is not installed (pip install 'cxlens[spark]')"
    if not (os.environ.get("JAVA_HOME") or shutil.which("java")):
        return "no Java runtime (java on PATH or JAVA_HOME) for Spark"
    return None


needs_spark = pytest.mark.skipif(_spark_missing() is not None, reason=_spark_missing() or "")


def test_spark_engine_without_java_says_what_to_install(monkeypatch, tmp_path):
    pytest.importorskip("pyspark")
    from cxlens.pipelines.score import run_score_spark

    monkeypatch.delenv("JAVA_HOME", raising=False)
    monkeypatch.setattr(shutil, "which", lambda name: None)
    with pytest.raises(ConfigError, match="Java runtime"):
        run_score_spark(ScoreInputs(tickets=str(tmp_path / "t.csv")), out=tmp_path / "out")
    assert not (tmp_path / "out").exists()


@pytest.fixture(scope="module")
def archive(small_archive) -> Path:
    """The first 120 tickets of the example archive, their messages, accounts and surveys."""
    return small_archive


def _inputs(folder: Path, *, downstream: bool = True) -> ScoreInputs:
    extra = {"accounts": str(folder / "accounts.csv"), "surveys": str(folder / "surveys.csv")} if downstream else {}
    return ScoreInputs(tickets=str(folder / "tickets.csv"), messages=str(folder / "messages.csv"), **extra)


@pytest.fixture(scope="module")
def spark():
    reason = _spark_missing()
    if reason:
        pytest.skip(reason)
    from cxlens.pipelines.score import spark_session

    session, created = spark_session("local[2]")
    yield session
    if created:
        session.stop()


@pytest.fixture(scope="module")
def runs(archive, spark, tmp_path_factory):
    """The local engine (fitting the topic model), then Spark with that model, shipped as on a cluster."""
    from cxlens.pipelines.score import run_score_spark

    base = tmp_path_factory.mktemp("engines")
    local = run_score(_inputs(archive), out=base / "local", options=OPTIONS, chunk_rows=CHUNK_ROWS)
    topics = local.manifest["stages"]["topic_model"]["folder"]
    assert topics, local.notes
    options = HeadOptions(scorecard="general_support", topic_model=topics)
    spark_run = run_score_spark(_inputs(archive), out=base / "spark", options=options, chunk_rows=CHUNK_ROWS,
                                ship_models=True)
    return local, spark_run, options


def _part_table(out: Path, name: str) -> pd.DataFrame:
    frame = read_parts(out / name)
    assert frame is not None, f"{out / name} has no parts"
    return frame.sort_values(KEYS[name], kind="mergesort").reset_index(drop=True)


def _assert_close(a, b, path: str = "") -> None:
    """JSON values equal, numbers within 1e-6 (relative or absolute)."""
    if isinstance(a, dict):
        assert isinstance(b, dict) and set(a) == set(b), path
        for key in a:
            _assert_close(a[key], b[key], f"{path}.{key}")
    elif isinstance(a, list):
        assert isinstance(b, list) and len(a) == len(b), path
        for i, (x, y) in enumerate(zip(a, b)):
            _assert_close(x, y, f"{path}[{i}]")
    elif isinstance(a, float) or isinstance(b, float):
        assert (a is None and b is None) or (math.isnan(a) and math.isnan(b)) or \
            math.isclose(a, b, rel_tol=1e-6, abs_tol=1e-6), f"{path}: {a} != {b}"
    else:
        assert a == b, f"{path}: {a!r} != {b!r}"


@needs_spark
@pytest.mark.slow
@pytest.mark.parametrize("table", list(KEYS))
def test_spark_engine_writes_the_same_rows_as_the_local_engine(runs, table):
    local, spark_run, _ = runs
    left, right = _part_table(local.out, table), _part_table(spark_run.out, table)
    assert len(left) == len(right) > 0
    pd.testing.assert_frame_equal(left, right, check_exact=False, rtol=1e-6, atol=1e-6)
    if table == "tickets":
        assert len(left) == N_TICKETS and left["topic"].notna().mean() > 0.9
        assert left["request_type"].notna().mean() > 0.9 and left["script_adherence"].notna().any()
    names = sorted(p.name for p in (spark_run.out / table).glob("part-*.parquet"))
    assert names == sorted(p.name for p in (local.out / table).glob("part-*.parquet"))


@needs_spark
@pytest.mark.slow
def test_spark_engine_downstream_tables_kpis_and_manifest_match(runs):
    local, spark_run, options = runs
    for name in ("accounts", "surveys"):  # in input order
        left, right = (pd.read_parquet(run.out / f"{name}.parquet") for run in (local, spark_run))
        pd.testing.assert_frame_equal(left, right, check_exact=False, rtol=1e-6, atol=1e-6)
    assert pd.read_parquet(spark_run.out / "accounts.parquet")["churn_probability"].notna().any()
    kpis = [json.loads((run.out / "kpis.json").read_text()) for run in (local, spark_run)]
    _assert_close(kpis[0], kpis[1])
    lm, sm = local.manifest, spark_run.manifest
    assert sm["status"] == lm["status"] == "complete"
    assert sm["counts"] == lm["counts"] and sm["chunks"] == lm["chunks"]
    assert lm["engine"] == {"name": "local"}
    engine = sm["engine"]
    assert engine["name"] == "spark" and engine["master"] == "local[2]" and engine["concurrent_chunks"] == 2
    assert engine["models_shipped"] == ["scorecard", "topic_model"] or engine["models_shipped"] == ["topic_model"]
    # models are loaded once per Python worker, not once per chunk
    assert 1 <= engine["model_loads"] <= engine["python_workers"] < len(sm["chunks"]["done"])
    # the versions name the driver's paths, not the executors' copies
    assert sm["models"]["topic"] == f"topic model at {options.topic_model}"
    assert {k: v for k, v in sm["models"].items() if k != "topic"} == \
        {k: v for k, v in lm["models"].items() if k != "topic"}
    assert not (spark_run.out / "_work").exists() and not list(spark_run.out.rglob("*.tmp"))


@needs_spark
@pytest.mark.slow
def test_an_interrupted_spark_run_resumes_without_duplicates_or_losses(archive, runs, tmp_path):
    from cxlens.pipelines.score import run_score_spark

    local, _, options = runs
    out = tmp_path / "out"

    def stop(k: int) -> None:
        raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        run_score_spark(_inputs(archive, downstream=False), out=out, options=options, chunk_rows=CHUNK_ROWS,
                        after_chunk=stop)
    manifest = json.loads((out / "manifest.json").read_text())
    assert manifest["status"] == "running" and len(manifest["chunks"]["done"]) == 1
    summary = run_score_spark(_inputs(archive, downstream=False), out=out, options=options, chunk_rows=CHUNK_ROWS)
    assert summary.resumed_chunks == 1 and summary.manifest["status"] == "complete"
    resumed, reference = _part_table(out, "tickets"), _part_table(local.out, "tickets")
    assert resumed["ticket_id"].is_unique and len(resumed) == N_TICKETS
    pd.testing.assert_frame_equal(resumed, reference, check_exact=False, rtol=1e-6, atol=1e-6)


class _RecordingContext:
    """Stands in for a SparkContext on a cluster master: it refuses local folders, as Spark 4 does."""

    def __init__(self) -> None:
        self.archives: list[str] = []

    def addFile(self, path, recursive=False):  # noqa: N802 (Spark's name)
        raise AssertionError(f"addFile({path!r}): a cluster master refuses local folders")

    def addArchive(self, path):  # noqa: N802
        assert Path(path).is_file() and Path(path).suffix == ".zip", path
        self.archives.append(path)


def test_model_folders_and_files_travel_to_executors_as_archives_that_unpack_to_the_same_files(
        monkeypatch, tmp_path):
    pytest.importorskip("pyspark")
    import zipfile

    from pyspark import SparkFiles

    from cxlens.pipelines.score import _spark as score_spark

    model = tmp_path / "my_topics"
    (model / "sub").mkdir(parents=True)
    (model / "model.json").write_text('{"k": 3}')
    (model / "sub" / "vectors.bin").write_bytes(bytes(range(256)))
    card = tmp_path / "card.yaml"
    card.write_text("name: mine\n")
    monkeypatch.setattr(score_spark.tempfile, "gettempdir", lambda: str(tmp_path / "tmp"))
    (tmp_path / "tuned").mkdir()  # a folder named like the shipped model: the name still means the shipped one
    monkeypatch.chdir(tmp_path)
    options = HeadOptions(topic_model=str(model), scorecard=str(card), sentiment_model="tuned")
    sc = _RecordingContext()
    shipped = score_spark._ship_models(sc, options)
    assert sorted(shipped) == ["scorecard", "topic_model"]  # "tuned" is a shipped name, not a path
    assert len(sc.archives) == 2
    # an executor: each archive unpacked into the SparkFiles root under its own name
    root = tmp_path / "executor"
    for path in sc.archives:
        with zipfile.ZipFile(path) as archive:
            archive.extractall(root / Path(path).name)
    monkeypatch.setattr(SparkFiles, "getRootDirectory", classmethod(lambda cls: str(root)))
    local, originals = score_spark._localised(options, shipped)
    copy = Path(local.topic_model)
    assert copy.is_dir() and copy != model and copy.name == model.name
    assert (copy / "model.json").read_text() == '{"k": 3}'
    assert (copy / "sub" / "vectors.bin").read_bytes() == bytes(range(256))
    assert Path(local.scorecard).read_text() == "name: mine\n"
    assert local.sentiment_model == "tuned"
    assert originals[local.topic_model] == str(model)
    # the same folder again: the staged archive is reused, not rebuilt
    assert score_spark._ship_models(_RecordingContext(), options) == shipped
