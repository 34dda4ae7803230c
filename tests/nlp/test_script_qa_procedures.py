"""ABCD procedures: generated scorecards, and the checker on the sample dialogues (incl. edited ones)."""

from __future__ import annotations

import copy

import pytest

from cxlens.nlp.qa import abcd_scorecards, abcd_to_tables, load_abcd_dialogues
from cxlens.nlp.qa import load_scorecard, scorecard_from_dict
from cxlens.nlp.qa import StepDetector
from cxlens.nlp.qa import score_script_qa

pytestmark = pytest.mark.shared_data


@pytest.fixture(scope="module")
def abcd(shared_data):
    return shared_data / "abcd"


@pytest.fixture(scope="module")
def detector():
    return StepDetector(scorecard=load_scorecard("abcd_all"), encoder=None).fit()


@pytest.fixture(scope="module")
def dialogues(abcd):
    return load_abcd_dialogues(abcd / "abcd_sample.json")


def check(detector, dialogues):
    tickets, messages = abcd_to_tables(dialogues)
    return score_script_qa(detector, messages, tickets)


def truth(dialogue):
    """The action buttons clicked, in order (from the delexicalised targets)."""
    return [t["targets"][2] for t in dialogue["delexed"] if t["speaker"] == "action"]


def test_procedures_shipped_scorecards_match_the_generator(abcd):
    for name, card in abcd_scorecards(abcd).items():
        assert load_scorecard(name) == scorecard_from_dict(card, source=load_scorecard(name).source), name


def test_procedures_scripts_follow_kb_order(abcd):
    import json

    kb = json.loads((abcd / "kb.json").read_text())
    card = load_scorecard("abcd_all")
    for sub in ("refund_initiate", "manage_change_address", "reset_2fa"):
        script = card.script_for(sub)
        actions = [s.id for s in script.steps if s.speaker == "system"]
        assert actions == [a.replace("-", "_") for a in kb[sub]]
        for prev, step in zip(actions, actions[1:]):
            assert script.step(step).after == (prev,)
    assert card.script_for("timing_4").id == "timing"


def test_procedures_checker_finds_the_required_actions_in_order(detector, dialogues):
    res = check(detector, dialogues)
    conv = res.conversations.set_index("ticket_id")
    for d in dialogues:
        tid = str(d["convo_id"])
        script = detector.scorecard.script_for(d["scenario"]["subflow"])
        required = [s.id for s in script.steps if s.speaker == "system"]
        done = [a.replace("-", "_") for a in truth(d)]
        expected_found = [a for a in required if a in done]
        found = [s for s in conv.at[tid, "steps_found"].split(";") if s in required]
        assert found == expected_found, tid
        assert set(conv.at[tid, "missing_steps"].split(";")) - {"offer_further_help", ""} == \
            set(required) - set(done), tid
        assert not set(conv.at[tid, "out_of_order_steps"].split(";")) & set(required), tid


def test_procedures_checker_catches_a_skipped_step(detector, dialogues):
    d = copy.deepcopy(dialogues[0])   # return_size: pull-up-account, validate-purchase, ...
    i = next(k for k, t in enumerate(d["delexed"]) if t["speaker"] == "action" and t["targets"][2] == "validate-purchase")
    del d["original"][i], d["delexed"][i]
    conv = check(detector, [d]).conversations.iloc[0]
    assert "validate_purchase" in conv["missing_steps"].split(";")
    before = check(detector, [dialogues[0]]).conversations.iloc[0]
    assert conv["script_adherence"] < before["script_adherence"]


def test_procedures_checker_catches_a_reordered_step(detector, dialogues):
    d = copy.deepcopy(dialogues[1])   # refund_status: pull-up-account then validate-purchase
    acts = [k for k, t in enumerate(d["delexed"]) if t["speaker"] == "action"]
    a, b = acts[0], acts[1]
    for key in ("original", "delexed"):
        d[key][a], d[key][b] = d[key][b], d[key][a]
    conv = check(detector, [d]).conversations.iloc[0]
    assert conv["out_of_order_steps"].split(";") == ["validate_purchase"]
    before = check(detector, [dialogues[1]]).conversations.iloc[0]
    assert conv["script_adherence"] < before["script_adherence"]


def test_procedures_untagged_action_text_is_recognised(detector, dialogues):
    d = copy.deepcopy(dialogues[1])
    for t in d["delexed"]:
        t["targets"] = []          # no button tags: only the system text is left
    conv = check(detector, [d]).conversations.iloc[0]
    assert conv["steps_found"].split(";")[-2:] == ["pull_up_account", "validate_purchase"]
