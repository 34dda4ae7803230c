"""Calibration from a few labels (tune_scorecard, tuning_split, read_labelled, tuned_scorecard) and the closeness
warnings of ``scorecard check`` (step_overlaps)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from cxlens.errors import DataError
from cxlens.nlp.qa import (StepDetector, load_scorecard, read_labelled, scorecard_from_dict, step_overlaps,
                           tune_scorecard, tuned_scorecard, tuning_split, write_scorecard)


class BagEncoder:
    name = "fake"
    VOCAB = ("restart", "device", "phone", "version", "os", "refund", "money", "weather", "dm", "username")

    def encode(self, texts):
        out = np.zeros((len(texts), len(self.VOCAB) + 1), dtype=np.float32)
        for i, text in enumerate(texts):
            words = [w.strip(".,!?:'\"/").lower() for w in str(text).split()]
            for j, v in enumerate(self.VOCAB):
                out[i, j] = words.count(v)
            out[i, -1] = 0.5
        return out / np.linalg.norm(out, axis=1, keepdims=True)


CARD = scorecard_from_dict({"name": "tune", "steps": [
    {"id": "restart", "description": "restart device", "examples": ["restart the phone", "restart your device"]},
    {"id": "refund", "description": "refund money", "examples": ["refund", "money refund"]},
]}, source="tune.yaml")


def labelled_set():
    """Replies whose labels follow the topic words; 'weather' padding dilutes the similarity of weak positives."""
    rows = []
    for k in range(30):
        pad = " weather" * (k % 4)
        rows.append((f"please restart the device{pad}", 1, 0))
        rows.append((f"your refund money is on its way{pad}", 0, 1))
        rows.append((f"the weather is nice{pad}", 0, 0))
    return [r[0] for r in rows], pd.DataFrame([r[1:] for r in rows], columns=["restart", "refund"]).astype(bool)


def test_qa_tune_split_caps_positives_per_step():
    _, labels = labelled_set()
    tune, rest = tuning_split(labels, per_step=5, seed=3)
    assert labels.iloc[tune].sum().max() == 5
    assert (~labels.iloc[tune].any(axis=1)).sum() == 5          # at most 5 replies with no step
    assert len(np.intersect1d(tune, rest)) == 0 and len(tune) + len(rest) == len(labels)
    assert not np.array_equal(tuning_split(labels, per_step=5, seed=4)[0], tune)


def test_qa_tune_fits_thresholds_and_reports_heldout_precision_recall():
    texts, labels = labelled_set()
    detector, report = tune_scorecard(CARD, texts, labels, encoder=BagEncoder(), per_step=5, seed=0, threshold=0.99,
                                      learn_phrases=False)  # thresholds alone (the words would do it here)
    assert list(report["step"]) == ["restart", "refund"]
    assert (report["tuned_on"] == 5).all()
    # the default threshold (0.99) misses the padded positives; the tuned one finds them all, no false alarm
    assert (report["threshold"] < 0.99).all()
    assert (report["precision"] == 1.0).all() and (report["recall"] == 1.0).all()
    assert (report["heldout_positives"] == 25).all()
    untuned = StepDetector(scorecard=CARD, encoder=BagEncoder(), threshold=0.99, calibrate="none").fit()
    assert untuned.predict(texts)["tune/restart"].sum() < 30


def test_qa_tuned_scorecard_round_trips_the_thresholds(tmp_path):
    texts, labels = labelled_set()
    detector, report = tune_scorecard(CARD, texts, labels, encoder=BagEncoder(), per_step=5, threshold=0.99,
                                      learn_phrases=False)
    path = write_scorecard(tuned_scorecard(detector), tmp_path / "tuned.yaml")
    card = load_scorecard(path)
    assert [s.threshold for s in card.scripts[0].steps] == list(report["threshold"])
    again = StepDetector(scorecard=card, encoder=BagEncoder()).fit()
    assert again.predict(texts)["tune/restart"].sum() == 30


def test_qa_read_labelled_matches_step_columns_by_name(tmp_path):
    path = tmp_path / "labels.csv"
    pd.DataFrame({"Text": ["a", "b"], "Restart": [1, None], "Other": [1, 1]}).to_csv(path, index=False)
    texts, labels = read_labelled(path, CARD)
    assert texts == ["a", "b"] and list(labels.columns) == ["restart"] and labels["restart"].tolist() == [True, False]
    pd.DataFrame({"text": ["a"], "nothing": [1]}).to_csv(path, index=False)
    with pytest.raises(DataError, match="no column is named after a step"):
        read_labelled(path, CARD)
    with pytest.raises(DataError, match="no text column 'reply'"):
        read_labelled(path, CARD, text_column="reply")


def test_qa_step_overlaps_warns_only_for_steps_too_close():
    close = scorecard_from_dict({"name": "close", "steps": [
        {"id": "restart", "description": "restart device", "examples": ["restart device phone", "restart device os"]},
        {"id": "reboot", "description": "restart the device", "examples": ["restart device", "restart the phone"]},
        {"id": "refund", "description": "refund money", "examples": ["refund", "money refund"]},
    ]}, source="close.yaml")
    warnings = step_overlaps(StepDetector(scorecard=close, encoder=BagEncoder()).fit())
    assert warnings and all("refund" not in w for w in warnings)
    assert any("'restart' and 'reboot' are nearly the same" in w for w in warnings)
    assert step_overlaps(StepDetector(scorecard=CARD, encoder=BagEncoder()).fit()) == []
    assert step_overlaps(StepDetector(scorecard=close, encoder=None).fit()) == []


def test_qa_counter_examples_veto_the_sentences_closest_to_them():
    spec = {"name": "counter", "threshold": 0.3, "steps": [
        {"id": "refund", "description": "refund money", "examples": ["refund", "money refund"]}]}
    texts = ["your money refund", "weather refund weather weather"]
    plain = StepDetector(scorecard=scorecard_from_dict(spec), encoder=BagEncoder(), calibrate="none").fit()
    assert plain.predict(texts)["counter/refund"].tolist() == [True, True]
    spec["steps"][0]["counter_examples"] = ["the weather weather refund"]
    vetoed = StepDetector(scorecard=scorecard_from_dict(spec), encoder=BagEncoder(), calibrate="none").fit()
    assert vetoed.predict(texts)["counter/refund"].tolist() == [True, False]


def test_qa_tune_learns_the_word_the_labels_follow():
    """Labels that follow a word of the criterion ('team') that the vectors do not see: they cannot tell those
    replies from chit-chat, a learned phrase can; it is in the report and in the tuned scorecard. A word shared
    by the replies but foreign to the criterion ('squad') is not learned."""
    from cxlens.nlp.qa._phrases import criterion_words, learned_phrases

    card = scorecard_from_dict({"name": "tune", "steps": [
        {"id": "refer", "description": "hand the case to the specialist team", "examples": ["dm your username"]},
        {"id": "refund", "description": "refund money", "examples": ["refund", "money refund"]},
    ]}, source="tune.yaml")
    rows = []
    for k in range(20):
        rows += [(f"our team will look into it {k}", 1, 0), (f"thanks for waiting {k}", 0, 0),
                 (f"your refund money is on its way {k}", 0, 1)]
    texts = [r[0] for r in rows]
    labels = pd.DataFrame([r[1:] for r in rows], columns=["refer", "refund"]).astype(bool)
    grounds = {"refer": criterion_words("refer", "hand the case to the specialist team")}
    assert learned_phrases(texts, labels, grounds=grounds)["refer"] == ["team"]
    squad = [t.replace("team", "squad") for t in texts]
    assert "refer" not in learned_phrases(squad, labels, grounds=grounds)
    assert learned_phrases(squad, labels)["refer"] == ["squad"]  # without grounds any marking word goes
    _, plain = tune_scorecard(card, texts, labels, encoder=BagEncoder(), per_step=5, seed=0, learn_phrases=False)
    detector, report = tune_scorecard(card, texts, labels, encoder=BagEncoder(), per_step=5, seed=0,
                                      learn_phrases=True)
    refer = report.set_index("step").loc["refer"]
    assert refer["learned_phrases"] == "team" and refer["f1"] == 1.0
    assert plain.set_index("step").loc["refer", "f1"] < 0.8
    step = tuned_scorecard(detector).scripts[0].steps[0]
    assert "team" in step.phrases
