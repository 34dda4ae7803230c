"""Dialogue acts: the sentence tagger, the acts a description names, and how the detector uses them
(an act that is the whole criterion fires on its own; a named act gates semantics; steps compete for a sentence)."""

from __future__ import annotations

import numpy as np
import pytest

from cxlens.nlp.qa import StepDetector, scorecard_from_dict
from cxlens.nlp.qa._acts import ACTS, described_acts, sentence_acts


class BagEncoder:
    """Deterministic bag-of-words encoder over a fixed vocabulary (plus a constant dimension)."""

    name = "fake"
    VOCAB = ("restart", "device", "phone", "version", "os", "link", "question", "sorry", "dm", "username", "email")

    def encode(self, texts):
        out = np.zeros((len(texts), len(self.VOCAB) + 1), dtype=np.float32)
        for i, text in enumerate(texts):
            words = [w.strip(".,!?:'\"/").lower() for w in str(text).split()]
            for j, v in enumerate(self.VOCAB):
                out[i, j] = words.count(v)
            out[i, -1] = 0.2
        return out / np.linalg.norm(out, axis=1, keepdims=True)


def acts_of(text: str) -> set[str]:
    return {a for a, on in zip(ACTS, sentence_acts([text])[0]) if on}


@pytest.mark.parametrize("text, expected, absent", [
    ("Can you DM us your username? /JS", {"question", "request", "ask"}, {"link", "apology"}),
    ("What happens when you try to play a song", {"question", "ask"}, {"link"}),
    ("Please reach out to us here: https://t.co/abc123 ^AB", {"request", "link", "ask"}, {"question"}),
    ("We're so sorry for the delay.", {"apology"}, {"question", "request", "ask"}),
    ("Your order will arrive on Friday.", set(), {"question", "request", "link", "apology", "ask"}),
    ("Hi there! Thanks for reaching out.", {"greeting", "thanks"}, {"question"}),
    ("How to reset your password is explained below.", set(), {"question"}),
])
def test_qa_acts_sentence_tags(text, expected, absent):
    got = acts_of(text)
    assert expected <= got
    assert not (absent & got)


@pytest.mark.parametrize("description, acts, whole", [
    ("The agent gives the customer a link.", ("link",), True),
    ("The agent asks the customer a question.", ("question",), True),
    ("The agent apologises to the customer.", ("apology",), True),
    ("The agent asks the customer to restart their device.", ("ask",), False),
    ("The agent shares a link to the returns policy.", ("link",), False),
    ("The agent tells the customer when the order will be delivered.", (), False),
])
def test_qa_acts_described(description, acts, whole):
    assert described_acts(description) == (acts, whole)


CARD = scorecard_from_dict({"name": "acts", "threshold": 0.5, "steps": [
    {"id": "give_link", "description": "The agent gives the customer a link."},
    {"id": "restart", "description": "The agent asks the customer to restart their device.",
     "examples": ["Please restart the device.", "Could you restart your phone?"]},
    {"id": "os_version", "description": "The agent asks which device and OS version the customer uses.",
     "examples": ["Which device and OS version are you on?", "What phone and version do you have?"]},
]}, source="acts.yaml")


def test_qa_acts_whole_criterion_fires_on_its_own_with_its_sentence():
    det = StepDetector(scorecard=CARD, encoder=BagEncoder(), calibrate="none").fit()
    text = "Thanks for waiting. The steps are here: https://t.co/Zx81PqRt"
    found = det.detect([text, "We have no news yet."])
    c = det.column_index("give_link")
    assert found.found[0, c] and not found.found[1, c]
    assert found.fired(0, c) == "act"
    start, end = found.evidence(0, c)
    assert text[start:end] == "The steps are here: https://t.co/Zx81PqRt"
    assert det.thresholds_[c] > 1.0   # similarity to "gives a link" is not evidence for it
    off = StepDetector(scorecard=CARD, encoder=BagEncoder(), calibrate="none", acts="off").fit()
    assert off.detect([text]).fired(0, c) != "act"


def test_qa_acts_gate_and_competition():
    det = StepDetector(scorecard=CARD, encoder=BagEncoder(), calibrate="none").fit()
    texts = ["Please restart the device.",            # the act and the topic
             "The device restart worked.",              # the topic without asking: gated out
             "Which device and OS version do you use?"]  # asks about the device, but is the other step
    found = det.predict(texts)
    assert found["acts/restart"].tolist() == [True, False, False]
    assert found["acts/os_version"].tolist() == [False, False, True]
    loose = StepDetector(scorecard=CARD, encoder=BagEncoder(), calibrate="none", acts="off", compete=None).fit()
    assert loose.predict(texts)["acts/restart"].tolist()[:2] == [True, True]


def test_qa_acts_bad_option_is_a_config_error():
    from cxlens.errors import ConfigError

    with pytest.raises(ConfigError, match="acts must be"):
        StepDetector(scorecard=CARD, encoder=None, acts="maybe").fit()
