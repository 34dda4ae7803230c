"""Step detection: rules (phrases, regexes, token patterns), semantic similarity, calibration."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from cxlens.errors import NotFittedError
from cxlens.nlp.encoders import TfidfEncoder
from cxlens.nlp.qa import scorecard_from_dict
from cxlens.nlp.qa import StepDetector, split_units


class WordEncoder:
    """Tiny deterministic encoder: one dimension per vocabulary word, plus a constant."""

    name = "fake"
    VOCAB = ("hello", "hi", "sorry", "apologies", "refund", "money", "password", "else", "help", "weather")

    def __init__(self):
        self.calls = []

    @property
    def dim(self):
        return len(self.VOCAB) + 1

    def encode(self, texts):
        self.calls.append(list(texts))
        out = np.zeros((len(texts), self.dim), dtype=np.float32)
        for i, text in enumerate(texts):
            words = [w.strip(".,!?'\"").lower() for w in str(text).split()]
            for j, v in enumerate(self.VOCAB):
                out[i, j] = words.count(v)
            out[i, -1] = 0.3
        return out / np.linalg.norm(out, axis=1, keepdims=True)


CARD = scorecard_from_dict({
    "name": "t",
    "threshold": 0.8,
    "steps": [
        {"id": "greet", "description": "hello hi", "regexes": [r"^\W*(hi|hello)\b"], "position": "opening"},
        {"id": "apologise", "description": "sorry apologies", "examples": ["so sorry"], "phrases": ["my apologies"]},
        {"id": "refund", "description": "refund money", "patterns": [[{"LOWER": "money"}, {"LOWER": "back"}]]},
        {"id": "more_help", "description": "anything else help", "phrases": ["anything else"], "position": "closing"},
    ],
    "forbidden": [
        {"id": "password", "description": "asks for the password", "regexes": [r"\byour password\b"]},
        {"id": "weather", "description": "talks about the weather", "examples": ["weather weather"]},
    ],
}, source="t.yaml")


def fitted(**kw):
    return StepDetector(scorecard=CARD, encoder=kw.pop("encoder", WordEncoder()), calibrate="none", **kw).fit()


def test_script_qa_split_units_spans():
    text = "Hi there! Sorry about that. Can you DM us? https://t.co/x 🙂"
    spans = split_units(text)
    assert [text[a:b] for a, b in spans] == ["Hi there!", "Sorry about that.", "Can you DM us?", "https://t.co/x 🙂"]
    assert split_units(text, granularity="message") == [(0, len(text))]
    assert split_units("") == [(0, 0)]


def test_script_qa_rules_give_spans():
    det = fitted(encoder=None)
    texts = ["Hello! Please tell me your password.", "You get your money back today, my apologies.",
             "Anything else?"]
    out = det.detect(texts)
    keys = [c.key for c in det.columns_]
    found = pd.DataFrame(out.found, columns=keys)
    assert found.loc[0, "t/greet"] and found.loc[0, "t/password"]
    assert found.loc[1, "t/refund"] and found.loc[1, "t/apologise"]
    assert found.loc[2, "t/more_help"]
    assert found.to_numpy().sum() == 5
    c = keys.index("t/password")
    a, b = out.evidence(0, c)
    assert texts[0][a:b].lower() == "your password"
    c = keys.index("t/refund")
    a, b = out.evidence(1, c)
    assert texts[1][a:b] == "money back"
    assert out.score[out.rule].min() == 1.0


def test_script_qa_semantic_finds_paraphrase_and_span():
    det = fitted()
    texts = ["We looked into it. Sorry sorry, that was our mistake.", "The weather weather is nice"]
    out = det.detect(texts)
    keys = [c.key for c in det.columns_]
    i = keys.index("t/apologise")
    assert out.found[0, i] and not out.rule[0, i]
    a, b = out.evidence(0, i)
    assert texts[0][a:b] == "Sorry sorry, that was our mistake."
    assert 0.5 <= out.score[0, i] <= 1.0
    # forbidden items with examples are detected semantically too
    assert out.found[1, keys.index("t/weather")]
    # forbidden items without examples never match on the description alone
    assert not out.found[:, keys.index("t/password")].any()


def test_script_qa_encodes_each_unit_once_in_one_call():
    enc = WordEncoder()
    det = fitted(encoder=enc)
    enc.calls.clear()
    det.detect(["Hi. Sorry.", "Refund money."])
    assert len(enc.calls) == 1
    assert enc.calls[0] == ["Hi.", "Sorry.", "Refund money."]


def test_script_qa_speaker_and_allowed_masks():
    det = fitted()
    keys = [c.key for c in det.columns_]
    allowed = np.ones((2, len(keys)), dtype=bool)
    allowed[1, keys.index("t/greet")] = False
    out = det.detect(["Hello there", "Hello there"], speakers=["system", "agent"], allowed=allowed)
    assert not out.found[0].any()          # agent steps are never found in system messages
    assert not out.found[1, keys.index("t/greet")]
    assert out.score[0].max() == 0.0


def test_script_qa_scores_are_calibrated_at_half():
    det = fitted()
    det.thresholds_[:] = 0.6
    sims = np.array([[0.59, 0.6, 0.61, 1.0, -1.0]], dtype=np.float32).T
    from cxlens.nlp.qa._detect import _calibrated

    scores = _calibrated(sims.repeat(len(det.columns_), 1), det.thresholds_)[:, 0]
    assert scores[0] < 0.5 <= scores[1] < scores[2] < scores[3] == 1.0 and scores[4] == 0.0


def test_script_qa_fit_with_labels_tunes_thresholds_leave_one_out():
    det = StepDetector(scorecard=CARD, encoder=WordEncoder()).fit(
        ["so sorry", "sorry for that", "hello", "the refund"],
        pd.DataFrame({"apologise": [True, True, False, False]}))
    i = det.column_index("apologise")
    assert det.thresholds_[i] < 1.5
    # "so sorry" is an example: it was compared leave-one-out, so still a useful threshold
    assert det.predict(["sorry about that"])["t/apologise"].iat[0]


def test_script_qa_fit_from_examples_stays_near_default():
    det = StepDetector(scorecard=CARD, encoder=WordEncoder()).fit()
    assert np.all(det.thresholds_ >= 0.7 - 1e-9) and np.all(det.thresholds_ <= 1.0 + 1e-9)


def test_script_qa_item_threshold_overrides():
    card = scorecard_from_dict({"steps": [{"id": "a", "description": "hello", "threshold": 0.99}]}, source="x")
    det = StepDetector(scorecard=card, encoder=WordEncoder()).fit(["hello"], pd.DataFrame({"a": [True]}))
    assert det.thresholds_[0] == pytest.approx(0.99)


def test_script_qa_not_fitted_and_unknown_column():
    det = StepDetector(scorecard=CARD, encoder=None)
    with pytest.raises(NotFittedError):
        det.detect(["hi"])
    det.fit()
    with pytest.raises(KeyError, match="Did you mean"):
        det.column_index("gret")


def test_script_qa_tfidf_encoder_runs():
    det = StepDetector(scorecard=CARD, encoder=TfidfEncoder()).fit()
    out = det.predict(["Hello! I am so sorry about the refund.", ""])
    assert out.shape == (2, len(det.columns_))
    assert out.loc[0, "t/greet"] and not out.loc[1].any()
