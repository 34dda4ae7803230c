"""Scorecard format: loading, validation errors (file, line, field), script selection."""

from __future__ import annotations

import textwrap

import pytest

from cxlens.errors import ConfigError, UnknownNameError
from cxlens.nlp.qa import (
    get_scorecard_names,
    load_scorecard,
    scorecard_from_dict,
    scorecard_to_dict,
    write_scorecard,
)

GOOD = """\
name: demo
steps:
  - id: greet
    description: Greet the customer
    examples: ["Hi there!"]
    position: opening
  - id: verify
    description: Verify identity
    position: any
    auto_fail: true
  - id: resolve
    description: Resolve the issue
    position: after:verify
    weight: 2
forbidden:
  - id: password
    description: Asks for the password
    regexes: ['\\bpassword\\b']
"""


def write(tmp_path, text, name="card.yaml"):
    path = tmp_path / name
    path.write_text(textwrap.dedent(text), encoding="utf-8")
    return path


def test_scorecard_loads_good_yaml(tmp_path):
    card = load_scorecard(write(tmp_path, GOOD))
    script = card.scripts[0]
    assert card.name == "demo"
    assert [s.id for s in script.steps] == ["greet", "verify", "resolve"]
    assert script.step("resolve").after == ("verify",)
    assert script.step("resolve").weight == 2.0
    assert script.step("greet").required is True
    assert script.forbidden[0].regexes == ("\\bpassword\\b",)


@pytest.mark.parametrize("name", get_scorecard_names())
def test_scorecard_shipped_files_are_valid(name):
    card = load_scorecard(name)
    assert card.scripts
    assert card.name == name


def test_scorecard_shipped_general_support_has_the_issue_steps():
    script = load_scorecard("general_support").scripts[0]
    ids = {s.id for s in script.steps}
    assert {"greet", "identify_issue", "empathise", "verify_identity", "resolve", "offer_further_help",
            "close_politely"} <= ids
    assert "ask_password" in {f.id for f in script.forbidden}


@pytest.mark.parametrize("snippet, line, field, words", [
    ("    colour: red\n", 5, "steps[0].colour", "unknown field 'colour'"),
    ("    regexes: ['(unclosed']\n", 5, "steps[0].regexes[0]", "bad regex"),
    ("    position: middle\n", 5, "steps[0].position", "opening, any, closing or after"),
    ("    weight: heavy\n", 5, "steps[0].weight", "must be a number"),
    ("    required: yes please\n", 5, "steps[0].required", "true or false"),
    ("    speaker: robot\n", 5, "steps[0].speaker", "agent, system, any"),
    ("    threshold: 3\n", 5, "steps[0].threshold", "between"),
    ("    patterns: [[{LOWERR: hi}]]\n", 5, "steps[0].patterns", "pattern"),
])
def test_scorecard_error_names_file_line_and_field(tmp_path, snippet, line, field, words):
    text = "name: x\nsteps:\n  - id: greet\n    description: Greet\n" + snippet
    path = write(tmp_path, text)
    with pytest.raises(ConfigError) as err:
        load_scorecard(path)
    msg = str(err.value)
    assert f"{path}:{line}: {field}" in msg
    assert words in msg


def test_scorecard_cycle_in_order_constraints(tmp_path):
    text = """\
    steps:
      - id: a
        description: A
        position: after:c
      - id: b
        description: B
        position: after:a
      - id: c
        description: C
        position: after:b
    """
    with pytest.raises(ConfigError, match=r"cycle in the order constraints.*a -> after -> c -> after -> b -> after -> a"):
        load_scorecard(write(tmp_path, text))


def test_scorecard_collects_every_problem_at_once(tmp_path):
    text = """\
    stepz: []
    steps:
      - id: a
        description: A
        position: after:nowhere
      - id: a
        description: ""
    forbidden:
      - id: f
        description: nothing to detect it with
    """
    with pytest.raises(ConfigError) as err:
        load_scorecard(write(tmp_path, text))
    msg = str(err.value)
    assert "5 problems" in msg
    assert "unknown field 'stepz' (did you mean 'steps'?)" in msg
    assert "no step 'nowhere'" in msg
    assert "duplicate step id 'a'" in msg
    assert "non-empty description" in msg
    assert "needs phrases, regexes, patterns or examples" in msg


def test_scorecard_toml_errors_have_lines(tmp_path):
    text = """\
    name = "t"

    [[steps]]
    id = "greet"
    description = "Greet"

    [[steps]]
    id = "close"
    description = "Close"
    regexes = ["(bad"]
    """
    path = write(tmp_path, text, "card.toml")
    with pytest.raises(ConfigError, match=rf"{path}:10: steps\[1\]\.regexes\[0\]: bad regex"):
        load_scorecard(path)


def test_scorecard_toml_good(tmp_path):
    text = """\
    name = "t"
    [[steps]]
    id = "greet"
    description = "Greet"
    position = "opening"
    """
    card = load_scorecard(write(tmp_path, text, "card.toml"))
    assert card.scripts[0].steps[0].position == "opening"


def test_scorecard_bad_yaml_and_missing_file(tmp_path):
    with pytest.raises(ConfigError, match=r"card.yaml:\d+: not valid YAML"):
        load_scorecard(write(tmp_path, "steps:\n  - id: [unclosed\n"))
    with pytest.raises(ConfigError, match="does not exist"):
        load_scorecard(tmp_path / "nope.yaml")
    with pytest.raises(UnknownNameError, match="general_support"):
        load_scorecard("general_suport")


def test_scorecard_scripts_by_request_type():
    card = scorecard_from_dict({
        "name": "multi",
        "steps": [{"id": "greet", "description": "Greet", "position": "opening"}],
        "scripts": [
            {"id": "refunds", "applies_to": ["refund_*"], "steps": [
                {"id": "reason", "description": "Ask the refund reason", "position": "after:greet"}]},
            {"id": "default", "steps": [{"id": "help", "description": "Help"}]},
        ],
    })
    assert card.per_type
    assert card.script_for("Refund_Initiate").id == "refunds"
    assert [s.id for s in card.script_for("refund_status").steps] == ["greet", "reason"]
    assert card.script_for("shipping").id == "default"
    assert card.script_for(None).id == "default"


def test_scorecard_no_script_matches_without_default():
    card = scorecard_from_dict({"scripts": [{"id": "r", "applies_to": "refund", "steps": [
        {"id": "a", "description": "A"}]}]}, source="x.yaml")
    assert card.script_for("refund").id == "r"
    assert card.script_for("other") is None


def test_scorecard_step_applies_to_and_when():
    card = scorecard_from_dict({"steps": [
        {"id": "sorry", "description": "Apologise", "when": {"sentiment": "negative"}},
        {"id": "verify", "description": "Verify", "applies_to": ["*account*"]}]}, source="x.yaml")
    sorry, verify = card.scripts[0].steps
    assert sorry.applies({"sentiment": "Negative"}) and not sorry.applies({"sentiment": "neutral"})
    assert not sorry.applies({})
    assert verify.applies({"request_type": "edit_account"}) and not verify.applies({"request_type": "refund"})


def test_scorecard_round_trip(tmp_path):
    card = load_scorecard("abcd_product_defect")
    again = scorecard_from_dict(scorecard_to_dict(card), source=card.source)
    assert again == card
    path = write_scorecard(card, tmp_path / "copy.yaml", header="copied")
    assert path.read_text().startswith("# copied\n")
    assert load_scorecard(path).scripts == card.scripts


def test_scorecard_top_level_settings_validated():
    with pytest.raises(ConfigError) as err:
        scorecard_from_dict({"opening_window": 0, "order_credit": 2, "threshold": "high",
                             "steps": [{"id": "a", "description": "A"}]}, source="s.yaml")
    msg = str(err.value)
    assert "opening_window: must be a whole number >= 1" in msg
    assert "order_credit: must be between 0.0 and 1.0" in msg
    assert "threshold: must be a number" in msg
