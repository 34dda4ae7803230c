"""Library errors name options as Python parameters; ``cxlens`` prints the same errors with its flags."""

from __future__ import annotations

import pytest

from cxlens.cli import main
from cxlens.cli._flags import FLAGS, flag, flags_for
from cxlens.dataset import load_dataset
from cxlens.errors import (ConfigError, ConfigProblem, DataError, InvalidConfigError, MissingColumnsError,
                           UnreadableFileError)


def write(path, text, encoding="utf-8"):
    path.write_bytes(text.encode(encoding))
    return str(path)


def test_encoding_error_names_the_parameter_in_python_and_the_flag_on_the_cli(tmp_path, capsys):
    # a latin-1 header stops the file (a latin-1 byte in a row quarantines that row: tests/core/test_io_records.py)
    tickets = write(tmp_path / "tickets.csv", "ticket_id,created_at,réponse\n1,2025-01-01,ça va\n", "latin-1")
    with pytest.raises(UnreadableFileError) as info:
        load_dataset(tickets=tickets)
    python = str(info.value)
    assert "e.g. encoding='latin-1' (or cp1252, utf-16)" in python and "--encoding" not in python

    assert main(["validate", "--tickets", tickets, "--out", str(tmp_path / "o")]) == 2
    err = capsys.readouterr().err
    assert "e.g. --encoding latin-1 (or cp1252, utf-16)" in err and "encoding=" not in err
    # the rest of the message is the same
    assert err.strip() == f"cxlens: error: {info.value.cli_message({'encoding': '--encoding'})}"


def test_missing_column_hint_is_mapping_in_python_and_map_on_the_cli(tmp_path, capsys):
    tickets = write(tmp_path / "tickets.csv", "ticket id,created_at\n1,2025-01-01\n")
    with pytest.raises(MissingColumnsError) as info:
        load_dataset(tickets=tickets)
    assert "Perhaps: mapping={'ticket id': 'ticket_id'}." in str(info.value)

    assert main(["validate", "--tickets", tickets, "--out", str(tmp_path / "o")]) == 2
    err = capsys.readouterr().err
    assert "Perhaps: --map 'ticket id=ticket_id'." in err and "mapping=" not in err


def test_config_problem_from_a_library_function_names_the_flag_on_the_cli(tmp_path, capsys):
    from cxlens.models.labels import parse_horizon

    with pytest.raises(InvalidConfigError, match=r"^horizon_days='soon': is not a duration"):
        parse_horizon("soon")
    accounts = write(tmp_path / "accounts.csv", "account_id,signup_at\na1,2025-01-01\n")
    assert main(["train", "churn", "--accounts", accounts, "--horizon", "soon", "--out", str(tmp_path / "o")]) == 2
    err = capsys.readouterr().err
    assert "cxlens: error: --horizon soon: is not a duration" in err and "horizon_days" not in err


def test_references_to_options_in_any_error():
    exc = DataError("no rows left (after {where} / {limit}); try {engine='local'} or {overwrite=True}.",
                    params=("where", "limit", "engine", "overwrite"))
    assert str(exc) == "no rows left (after where / limit); try engine='local' or overwrite=True."
    assert exc.cli_message(flags_for(exc.params)) == ("no rows left (after --where / --limit); "
                                                      "try --engine local or --overwrite.")
    plain = ConfigError("a {brace} that names no option")
    assert str(plain) == plain.cli_message(flags_for(plain.params)) == "a {brace} that names no option"


def test_flags_given_by_a_command_win_over_the_shared_map():
    exc = InvalidConfigError([ConfigProblem("archive", "x", "no such folder.")]).for_cli({"archive": "--data"})
    assert exc.cli_message(flags_for(exc.params)) == "--data x: no such folder."


def test_one_map_from_parameters_to_flags():
    from cxlens.cli._score import FLAGS as SCORE_FLAGS

    assert flag("as_of") == "--as-of" and flag("label_col") == "--label-col"
    assert flag("mapping") == "--map" and flag("horizon_days") == "--horizon"
    assert all(flag(param) == f for param, f in SCORE_FLAGS.items())  # cxlens score needs no map of its own
    assert all(f.startswith("--") for f in FLAGS.values())
