"""``cxlens.score``: batch-score an archive from one checked :class:`ScoreConfig`.

The config names every option once, as a parameter. :meth:`ScoreConfig.validate` checks all of them
before any data is read (names, devices, model folders, the scorecard, numbers, inputs) and reports
every problem at once in one :class:`~cxlens.errors.InvalidConfigError`; ``cxlens score`` builds the
same config from its flags and calls the same :func:`score`, turning parameter names into flags.

This module imports nothing heavy at import time: ``cxlens.ScoreConfig`` is cheap to build.
"""

from __future__ import annotations

import codecs
import dataclasses
import importlib.util
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from cxlens.errors import ConfigProblem, CxlensError, InvalidConfigError

if TYPE_CHECKING:
    from cxlens.config import KPIConfig
    from cxlens.pipelines.score import HeadOptions, ScoreInputs, ScoreSummary

__all__ = ["DEVICES", "ENGINES", "SKIPPABLE_HEADS", "TABLES", "ScoreConfig", "score"]

#: heads ``skip`` may leave out
SKIPPABLE_HEADS = ("request_type", "topic", "sentiment", "qa")
#: where the encoder runs; ``auto`` is CUDA when torch sees a GPU, else the CPU
DEVICES = ("cpu", "cuda", "auto")
#: who scores the chunks: this process, or Spark (pyspark; local mode unless ``master``)
ENGINES = ("local", "spark")
#: the input tables, in the order the options list them
TABLES = ("tickets", "messages", "mentions", "accounts", "surveys")

Progress = Callable[[str, int, "int | None"], None]


@dataclass(frozen=True, kw_only=True)
class ScoreConfig:
    """Everything one scoring run needs: the inputs, the output folder and the head options.

    Inputs: ``archive``, a folder holding ``tickets.*``, ``messages.*``, ``accounts.*``, ``surveys.*``,
    ``mentions.*`` (e.g. ``examples/archive``), and/or a path per table (``tickets=`` ... ``surveys=``,
    each a file or a folder of files), which takes precedence over the archive's; ``mapping`` renames
    columns on read (``{"Ticket ID": "ticket_id"}``); ``encoding`` is the text encoding of CSV/JSON;
    ``date_format`` and ``dates_between`` say how timestamps are read and which are plausible
    (:class:`cxlens.io.ValueRules`); ``follow_symlinks`` reads links inside an input folder; ``skip_unreadable``
    scores without the part of a file that cannot be read (by default such a file stops the run).

    Heads: ``request_type_model`` (a folder from ``cxlens train classifier``; default the shipped
    model) or ``request_types`` (a taxonomy file, or a folder from ``cxlens train classifier --taxonomy``:
    docs/taxonomy.md), ``topic_model`` (a folder from ``cxlens topics discover``; default: fit one on
    ``topic_sample`` customer texts of the first chunks), ``sentiment_model`` (a folder from
    ``cxlens train sentiment`` or a shipped name, ``frozen`` (default) or ``tuned``),
    ``fast_sentiment`` (the lexicon instead of a model), ``scorecard`` (a file or shipped name;
    default no script QA), ``encoder`` (the registered text encoder every head reads: ``minilm``,
    ``minilm-l2``, ...), ``device`` (``cpu``, ``cuda`` or ``auto``), ``skip`` (heads to leave out:
    ``request_type``, ``topic``, ``sentiment``, ``qa``), ``trust_model`` (load a ``request_type_model`` folder of
    an older cxlens whose heads are pickled, ``head.joblib``: a pickle can run any code it carries, so only for a
    model you made; it changes no output, so a run resumes with or without it).

    Run: ``chunk_rows`` (tickets per chunk: the unit of memory and of resuming), ``limit`` (score only
    the first N tickets), ``engine`` (``local`` or ``spark``) and ``master`` (a Spark master URL),
    ``kpi_config`` (a :class:`~cxlens.config.KPIConfig` or the path of its TOML file),
    ``overwrite`` (replace an earlier run with other inputs in ``out``), ``keep_work`` (keep the
    chunk files in ``out/_work``). Running the same config again resumes an interrupted run.
    """

    out: str
    archive: str | None = None
    tickets: str | None = None
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
    request_type_model: str | None = None
    request_types: str | None = None
    trust_model: bool = False
    topic_model: str | None = None
    topic_sample: int = 10_000
    sentiment_model: str | None = None
    fast_sentiment: bool = False
    scorecard: str | None = None
    encoder: str = "minilm"
    device: str = "cpu"
    skip: tuple[str, ...] = ()
    chunk_rows: int = 20_000
    limit: int | None = None
    engine: str = "local"
    master: str | None = None
    kpi_config: KPIConfig | str | None = None
    overwrite: bool = False
    keep_work: bool = False

    def __post_init__(self) -> None:
        # paths as text, the mapping and skip as sorted tuples: a config is hashable and its fields
        # compare equal however they were given (nothing is checked here: see validate)
        for name in ("out", "archive", *TABLES, "request_type_model", "request_types", "topic_model", "sentiment_model",
                     "scorecard", "kpi_config"):
            value = getattr(self, name)
            if isinstance(value, Path):
                object.__setattr__(self, name, str(value))
        if isinstance(self.mapping, Mapping):
            object.__setattr__(self, "mapping", tuple(sorted((str(k), str(v)) for k, v in self.mapping.items())))
        if isinstance(self.skip, str):
            object.__setattr__(self, "skip", (self.skip,))
        elif isinstance(self.skip, Iterable):
            object.__setattr__(self, "skip", tuple(sorted({str(s) for s in self.skip})))

    # ------------------------------------------------------------------ checks

    def problems(self) -> list[ConfigProblem]:
        """Every problem found without reading any data: empty when the config can run."""
        found: list[ConfigProblem] = []
        found += _input_problems(self)
        found += _output_problems(self)
        found += _head_problems(self)
        found += _run_problems(self)
        return found

    def validate(self) -> ScoreConfig:
        """``self`` if it can run, else :class:`~cxlens.errors.InvalidConfigError` listing every problem."""
        found = self.problems()
        if found:
            raise InvalidConfigError(found, subject="score options",
                                     params=[f.name for f in dataclasses.fields(self)])
        return self

    # ------------------------------------------------------------------ what the engines take

    def table_paths(self) -> dict[str, str]:
        """The input tables: the archive's, then each table given by name (which wins)."""
        paths: dict[str, str] = {}
        if self.archive is not None:
            from cxlens.pipelines.score import archive_tables

            paths.update(archive_tables(self.archive))
        paths.update({t: getattr(self, t) for t in TABLES if getattr(self, t) is not None})
        return paths

    def score_inputs(self) -> ScoreInputs:
        """The tables (:meth:`table_paths`) and every reading option, field for field: a ScoreInputs field is a
        ScoreConfig field of the same name."""
        from cxlens.pipelines.score import ScoreInputs

        paths = self.table_paths()
        return ScoreInputs(**{f.name: paths.get(f.name) if f.name in TABLES else getattr(self, f.name)
                              for f in dataclasses.fields(ScoreInputs)})

    def head_options(self) -> HeadOptions:
        from cxlens.pipelines.score import HeadOptions

        return HeadOptions(request_type_model=self.request_type_model, request_types=self.request_types,
                           topic_model=self.topic_model,
                           sentiment_model=self.sentiment_model, fast_sentiment=self.fast_sentiment,
                           scorecard=self.scorecard, device=self.resolved_device(), skip=self.skip,
                           encoder=self.encoder, trust_model=self.trust_model)

    def resolved_device(self) -> str:
        """``device``, with ``auto`` made ``cuda`` or ``cpu`` for this machine."""
        if self.device != "auto":
            return self.device
        return "cuda" if _cuda_available() else "cpu"

    def kpi_settings(self) -> KPIConfig:
        from cxlens.config import KPIConfig, load_config

        if self.kpi_config is None:
            return KPIConfig()
        if isinstance(self.kpi_config, KPIConfig):
            return self.kpi_config
        return load_config(self.kpi_config)


def score(config: ScoreConfig, *, progress: Progress | None = None) -> ScoreSummary:
    """Score an archive as ``config`` says; rerunning the same config continues an interrupted run.

    ``config`` is validated first, so a misspelt name or a missing model fails before any data is
    read. ``progress(stage, done, total)`` is called as the stages advance. Returns the
    :class:`~cxlens.pipelines.score.ScoreSummary` (``out``, the ``manifest``, notes); read the
    output with :func:`cxlens.read_scored`. Layout: docs/score-output.md.
    """
    if not isinstance(config, ScoreConfig):
        raise TypeError(f"score() takes a cxlens.ScoreConfig, got {type(config).__name__}.")
    config.validate()
    common: dict[str, Any] = dict(out=config.out, options=config.head_options(), chunk_rows=config.chunk_rows,
                                  limit=config.limit, topic_sample=config.topic_sample,
                                  kpi_config=config.kpi_settings(), overwrite=config.overwrite,
                                  keep_work=config.keep_work, progress=progress)
    inputs = config.score_inputs()
    if config.engine == "spark":
        from cxlens.pipelines.score import run_score_spark

        return run_score_spark(inputs, master=config.master, **common)
    from cxlens.pipelines.score import run_score

    return run_score(inputs, **common)


# ---------------------------------------------------------------- the checks, by area


def _exists(path: str) -> bool:
    return Path(path).exists()


def _input_problems(c: ScoreConfig) -> list[ConfigProblem]:
    found = []
    tickets_found = c.tickets is not None
    if c.archive is not None:
        folder = Path(c.archive)
        if not folder.is_dir():
            found.append(ConfigProblem("archive", c.archive, "no such folder."))
        elif not tickets_found:
            from cxlens.pipelines.score import archive_tables

            try:
                tickets_found = "tickets" in archive_tables(folder)
            except CxlensError:
                found.append(ConfigProblem("archive", c.archive,
                                           "has no tickets table in it (tickets.csv, .parquet, .jsonl or .json, "
                                           "or a tickets/ folder of them); the tickets table is required."))
                tickets_found = True  # said once
    if c.archive is None and c.tickets is None:
        found.append(ConfigProblem("tickets", None, "the tickets table is required: give {archive} (a folder of "
                                                    "tables) or {tickets} (the tickets file or folder)."))
    for table in TABLES:
        path = getattr(c, table)
        if path is not None and not _exists(path):
            found.append(ConfigProblem(table, path, "no such file or folder."))
    if not _known_encoding(c.encoding):
        found.append(ConfigProblem("encoding", c.encoding, "unknown text encoding (e.g. utf-8, latin-1, cp1252)."))
    bad = [pair for pair in c.mapping if not (isinstance(pair, tuple) and len(pair) == 2 and all(pair))]
    if bad:
        found.append(ConfigProblem("mapping", bad, "give the column renames as a dict of their column name to "
                                                   "ours, e.g. {'Ticket ID': 'ticket_id'}."))
    from cxlens.io import ValueRules

    try:
        ValueRules(date_format=c.date_format, dates_between=c.dates_between)
    except InvalidConfigError as exc:
        found += exc.problems
    return found + _boolean(c, "follow_symlinks") + _boolean(c, "skip_unreadable")


def _known_encoding(name: object) -> bool:
    try:
        codecs.lookup(str(name))
    except LookupError:
        return False
    return True


def _output_problems(c: ScoreConfig) -> list[ConfigProblem]:
    if not c.out:
        return [ConfigProblem("out", None, "the output folder is required.")]
    out = Path(c.out)
    if out.exists() and not out.is_dir():
        return [ConfigProblem("out", c.out, "is a file; give a folder (new, empty, or an earlier run's).")]
    from cxlens.pipelines.score import is_foreign_folder

    if is_foreign_folder(out):
        return [ConfigProblem("out", c.out, "is not empty and is not the output of a scoring run: give an empty "
                                            "or new folder.")]
    return []


def _head_problems(c: ScoreConfig) -> list[ConfigProblem]:
    found = []
    from cxlens.errors import UnknownNameError
    from cxlens.nlp.encoders import check_encoder_name

    try:
        check_encoder_name(c.encoder)
    except UnknownNameError as exc:
        found.append(ConfigProblem("encoder", c.encoder, str(exc)))
    if c.device not in DEVICES:
        found.append(ConfigProblem("device", c.device, f"use one of {', '.join(DEVICES)}."))
    elif c.device == "cuda" and not _cuda_available():
        found.append(ConfigProblem("device", c.device, "torch sees no CUDA device here: use cpu, or auto "
                                                       "(CUDA where there is one)."))
    for name in c.skip:
        if name not in SKIPPABLE_HEADS:
            found.append(ConfigProblem("skip", name, f"not a head; the heads are {', '.join(SKIPPABLE_HEADS)}."))
    found += _boolean(c, "trust_model")
    if c.request_type_model is not None:
        found += _classifier_folder(c)
    if c.request_types is not None:
        found += _taxonomy_file(c)
    if c.topic_model is not None:
        found += _model_folder("topic_model", c.topic_model, ("topic_model.json",),
                               "a topic model saved by `cxlens topics discover` (its model/ folder)")
    if c.sentiment_model is not None:
        from cxlens.nlp.sentiment import SHIPPED_MODELS, is_shipped_model

        if not is_shipped_model(c.sentiment_model):
            found += _model_folder("sentiment_model", c.sentiment_model, ("params.json", "head.npz"),
                                   f"a shipped name ({', '.join(sorted(SHIPPED_MODELS))}) or a model saved by "
                                   "`cxlens train sentiment`")
        if c.fast_sentiment is True:
            found.append(ConfigProblem("sentiment_model", c.sentiment_model,
                                       "is not used with {fast_sentiment=True} (the lexicon scores sentiment "
                                       "then): give one of the two."))
    if c.scorecard is not None:
        from cxlens.nlp.qa import load_scorecard

        try:
            load_scorecard(c.scorecard)  # reads and validates the scorecard, not the data
        except CxlensError as exc:
            found.append(ConfigProblem("scorecard", c.scorecard, str(exc)))
    return found


def _cuda_available() -> bool:
    from cxlens.nlp.encoders import cuda_available

    return cuda_available()


def _taxonomy_file(c: ScoreConfig) -> list[ConfigProblem]:
    """A taxonomy file (or trained taxonomy folder) that reads and validates; not with a request_type_model."""
    from cxlens.nlp.classify import load_taxonomy

    if c.request_type_model is not None:
        return [ConfigProblem("request_types", c.request_types, "names its own model; give it or "
                                                                "{request_type_model}, not both.")]
    try:
        load_taxonomy(c.request_types)
    except CxlensError as exc:
        return [ConfigProblem("request_types", c.request_types, str(exc))]
    return []


def _classifier_folder(c: ScoreConfig) -> list[ConfigProblem]:
    """A saved classifier: params.json + head.json + head.npz, or (an older cxlens) head.joblib when trusted."""
    from cxlens.nlp.classify import CLASSIFIER_FILES, legacy_heads

    if legacy_heads(c.request_type_model):
        if c.trust_model is True:
            return []
        return [ConfigProblem("request_type_model", c.request_type_model,
                              "keeps its heads in head.joblib, a pickle written by an older cxlens, and loading one "
                              "can run any code it carries. If you made it, pass {trust_model=True} to load it, and "
                              "save it again (TextClassifier.save) to write it without pickle.")]
    return _model_folder("request_type_model", c.request_type_model, CLASSIFIER_FILES,
                         "a classifier saved by `cxlens train classifier`")


def _model_folder(param: str, path: str, files: tuple[str, ...], what: str) -> list[ConfigProblem]:
    folder = Path(path)
    if not folder.is_dir():
        return [ConfigProblem(param, path, f"no such folder; give {what}.")]
    missing = [f for f in files if not (folder / f).is_file()]
    if missing:
        return [ConfigProblem(param, path, f"not a saved model (no {', '.join(missing)} in it); give {what}.")]
    return []


def _boolean(c: ScoreConfig, name: str) -> list[ConfigProblem]:
    value = getattr(c, name)
    return [] if isinstance(value, bool) else [ConfigProblem(name, value, "must be True or False.")]


def _positive(c: ScoreConfig, name: str, *, optional: bool = False) -> list[ConfigProblem]:
    value = getattr(c, name)
    if optional and value is None:
        return []
    if isinstance(value, bool) or not isinstance(value, int) or value <= 0:
        return [ConfigProblem(name, value, "must be a whole number above 0.")]
    return []


def _run_problems(c: ScoreConfig) -> list[ConfigProblem]:
    found = _positive(c, "chunk_rows") + _positive(c, "limit", optional=True) + _positive(c, "topic_sample")
    if c.engine not in ENGINES:
        found.append(ConfigProblem("engine", c.engine, f"use one of {', '.join(ENGINES)}."))
    elif c.engine == "spark" and importlib.util.find_spec("pyspark") is None:
        found.append(ConfigProblem("engine", c.engine, "needs the package 'pyspark', which is not installed. "
                                                       "Run: pip install \"cxlens[spark]\""))
    if c.master is not None and c.engine != "spark":
        found.append(ConfigProblem("master", c.master, "is a Spark master URL: it needs {engine=spark}."))
    if c.kpi_config is not None:
        from cxlens.config import KPIConfig, load_config

        if not isinstance(c.kpi_config, KPIConfig):
            try:
                load_config(c.kpi_config)
            except CxlensError as exc:
                found.append(ConfigProblem("kpi_config", c.kpi_config, str(exc)))
    return found
