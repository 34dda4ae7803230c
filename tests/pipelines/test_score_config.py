"""``cxlens.ScoreConfig``: every option checked before any data is read, all problems reported together,
named as parameters in Python and as flags by ``cxlens score``."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import pytest

import cxlens
from cxlens.cli import main
from cxlens.errors import InvalidConfigError

ARCHIVE = Path(__file__).resolve().parents[2] / "examples" / "archive"


@pytest.fixture
def no_data_read(monkeypatch):
    """Fails the test if scoring starts (the engines are what read the archive)."""
    import cxlens.pipelines.score as score_pkg

    def refuse(*args, **kwargs):
        raise AssertionError("the archive was read before the options were checked")

    monkeypatch.setattr(score_pkg, "run_score", refuse)
    monkeypatch.setattr(score_pkg, "run_score_spark", refuse)
    monkeypatch.setattr("cxlens.pipelines.score._run.partition_inputs", refuse)


def _params(error: InvalidConfigError) -> list[str]:
    return [p.param for p in error.problems]


def test_score_config_a_misspelt_encoder_fails_before_any_data_is_read(no_data_read, tmp_path):
    out = tmp_path / "out"
    with pytest.raises(cxlens.ConfigError) as info:
        cxlens.score(cxlens.ScoreConfig(archive=ARCHIVE, out=out, encoder="minilm-x"))
    assert _params(info.value) == ["encoder"]
    assert str(info.value).startswith("encoder='minilm-x': Unknown encoder 'minilm-x'. Did you mean: minilm")
    assert not out.exists()


def test_score_config_reports_every_problem_at_once(no_data_read, tmp_path):
    bad_card = tmp_path / "card.yaml"
    bad_card.write_text("name: x\nscripts: [{id: s, steps: [{id: a, bogus: 1}]}]\n", encoding="utf-8")
    config = cxlens.ScoreConfig(archive=tmp_path / "no-such-archive", out=tmp_path / "out", encoder="minilm-x",
                                skip=("topic", "sentimnet"), device="gpu", chunk_rows=0, limit=-5, engine="dask",
                                scorecard=bad_card, request_type_model=tmp_path / "no-model",
                                topic_model=tmp_path, sentiment_model="tunned", kpi_config=tmp_path / "none.toml")
    problems = config.problems()
    assert [p.param for p in problems] == [
        "archive", "encoder", "device", "skip", "request_type_model", "topic_model", "sentiment_model",
        "scorecard", "chunk_rows", "limit", "engine", "kpi_config"]
    with pytest.raises(InvalidConfigError) as info:
        cxlens.score(config)
    message = str(info.value)
    assert message.startswith("12 problems with the score options:\n")
    for text in ("encoder='minilm-x'", "skip='sentimnet': not a head", "device='gpu'", "chunk_rows=0",
                 "limit=-5", "engine='dask'", "bogus", "no such folder", "topic_model.json", "none.toml"):
        assert text in message
    assert "--" not in message  # Python users are told about parameters, not flags


def test_score_config_checks_the_inputs_and_the_output_folder(no_data_read, tmp_path):
    (tmp_path / "busy").mkdir()
    (tmp_path / "busy" / "notes.txt").write_text("mine")
    (tmp_path / "empty-archive").mkdir()
    problems = cxlens.ScoreConfig(out=tmp_path / "busy", messages=tmp_path / "m.csv", encoding="utf-99").problems()
    assert [p.param for p in problems] == ["tickets", "messages", "encoding", "out"]
    problems = cxlens.ScoreConfig(archive=tmp_path / "empty-archive", out=tmp_path / "o").problems()
    assert [(p.param, "no tickets table" in p.message) for p in problems] == [("archive", True)]
    problems = cxlens.ScoreConfig(archive=ARCHIVE, out=tmp_path / "o", master="spark://h:7077",
                                  sentiment_model="frozen", fast_sentiment=True).problems()
    assert [p.param for p in problems] == ["sentiment_model", "master"]
    assert "engine=spark" in problems[1].message or "{engine=spark}" in problems[1].message


def test_score_config_a_valid_config_passes_and_builds_the_engine_arguments(tmp_path):
    config = cxlens.ScoreConfig(archive=str(ARCHIVE), out=tmp_path / "out", tickets=ARCHIVE / "tickets.csv",
                                scorecard="general_support", sentiment_model="tuned", encoder="minilm-l2",
                                skip=["topic", "qa", "topic"], mapping={"Ticket ID": "ticket_id"}, limit=10)
    assert config.validate() is config
    assert config.out == str(tmp_path / "out") and config.skip == ("qa", "topic")
    assert config.mapping == (("Ticket ID", "ticket_id"),)
    inputs = config.score_inputs()
    assert inputs.tickets == str(ARCHIVE / "tickets.csv") and inputs.messages.endswith("messages.csv")
    assert inputs.mapping == (("Ticket ID", "ticket_id"),)
    options = config.head_options()
    assert (options.encoder, options.skip, options.scorecard, options.device) == (
        "minilm-l2", ("qa", "topic"), "general_support", "cpu")
    with pytest.raises(dataclasses.FrozenInstanceError):
        config.encoder = "minilm"  # type: ignore[misc]
    assert hash(config) == hash(dataclasses.replace(config))


def test_score_config_cli_names_the_flags_and_reads_nothing(no_data_read, tmp_path, capsys):
    out = tmp_path / "out"
    code = main(["score", "--archive", str(ARCHIVE), "--out", str(out), "--encoder", "minilm-x",
                 "--chunk-rows", "0", "--skip", "bogus", "--device", "gpu"])
    err = capsys.readouterr().err
    assert code == 2 and not out.exists()
    assert "4 problems with the score options" in err
    for flag in ("--encoder minilm-x: Unknown encoder 'minilm-x'", "--chunk-rows 0: must be", "--skip bogus",
                 "--device gpu"):
        assert flag in err
    assert "encoder='minilm-x'" not in err and "chunk_rows" not in err


def test_score_config_cli_names_the_flag_of_a_single_problem(no_data_read, tmp_path, capsys):
    code = main(["score", "--out", str(tmp_path / "out")])
    err = capsys.readouterr().err
    assert code == 2
    assert "--tickets: the tickets table is required: give --archive (a folder of tables) or --tickets" in err


def test_score_config_run_score_speaks_of_parameters_and_the_cli_of_flags(tmp_path):
    from cxlens.cli._score import FLAGS
    from cxlens.pipelines.score import ScoreInputs, run_score
    from cxlens.pipelines.score._folder import start_manifest as _start_manifest

    out = tmp_path / "out"
    with pytest.raises(InvalidConfigError, match=r"chunk_rows=0: must be a whole number above 0") as info:
        run_score(ScoreInputs(tickets=str(tmp_path / "missing.csv")), out=out, chunk_rows=0)
    assert not out.exists() and _params(info.value) == ["chunk_rows"]
    _start_manifest(out, {"inputs": {"tickets": ["a"]}, "options": {}}, overwrite=False)
    with pytest.raises(InvalidConfigError) as info:
        _start_manifest(out, {"inputs": {"tickets": ["b"]}, "options": {}}, overwrite=False)
    assert "holds a run with other inputs or options: set overwrite=True to replace it" in str(info.value)
    cli = str(info.value.for_cli(FLAGS))
    assert cli.startswith(f"--out {out}: holds a run") and "set --overwrite to replace it" in cli


@pytest.mark.slow
def test_score_config_scores_a_small_archive_end_to_end(small_archive, tmp_path):
    config = cxlens.ScoreConfig(archive=small_archive, out=tmp_path / "out", limit=20, fast_sentiment=True,
                                skip=("request_type", "topic", "qa"))
    summary = cxlens.score(config)
    assert summary.manifest["status"] == "complete"
    scored = cxlens.read_scored(config.out)
    assert len(scored.tickets) == 20 and scored.tickets["sentiment"].notna().any()
    again = cxlens.score(config)  # the same config again: nothing to do
    assert "already holds this complete run" in again.notes[0]
    report = cxlens.compute_kpis(scored)
    assert report.kpis["ticket_volume"] == 20
