"""Person names: the shipped name tagger next to the rules (issue 24)."""

from __future__ import annotations

import pytest

from cxlens import _name_tagger
from cxlens._pii import find_pii, tagged_name_ok
from cxlens.redact import redact_frame, redact_text, redact_texts

pytest.importorskip("spacy")


@pytest.mark.parametrize("text, name", [
    ("Why is the new album by Zendaya Okonkwo-Marsh not on my playlist?", "Zendaya Okonkwo-Marsh"),
    ("Your agent Shirin Farahani was so helpful today, thank you!", "Shirin Farahani"),
    ("@SpotifyCares I miss it deeply while scrolling past the Taylor Swift releases.", "Taylor Swift"),
])
def test_the_tagger_finds_names_the_rules_alone_miss_or_keep(text, name):
    tagged, = _name_tagger.tag_names([text])
    found = [text[s:e] for s, e, kind in find_pii(text, tagged=tagged) if kind == "PERSON"]
    assert any(name in f or f in name for f in found), (found, tagged)


@pytest.mark.parametrize("span, kept", [
    ("Alvina", True),          # capitalised, no English word
    ("Tucker", True),          # a listed given name
    ("Battery", False),        # an English word the tagger took for a name in a title-case tweet
    ("Spotify", False),        # a brand
    ("CCTV", False),           # capitals: an acronym
    ("Cancelled Flighted", False),
    ("Logan airport", False),  # a place word
])
def test_tagged_spans_are_filtered(span, kept):
    assert tagged_name_ok(span) is kept


@pytest.mark.parametrize("text, person", [
    ("I moved to Puerto Rico last year and my flight to Puerto Vallarta was cancelled", None),
    ("moving to Santa Clara, then Lake Charles and Mount Vernon", None),
    ("moving to St.Louis, then Mt. Vernon and Grand Rapids", None),
    ("flying to Puerto Rico with Rico next week", "Rico"),  # a name after the place is still a name
    ("Isla Fisher called about my order", "Isla Fisher"),  # a given name that is no place prefix
    ("Rio Ferdinand called about my order", "Rio Ferdinand"),  # surnames that open places too are names
    ("Monte Williams here, about my order", "Monte Williams"),
    ("Ana Costa Silva called about my order", "Ana Costa"),
    ("Emily St. John wrote to you yesterday", "Emily"),  # a prefix after a name is part of the name
    ("DaCosta John called about my order", "John"),  # "Costa" inside a word is no prefix
])
def test_place_names_that_open_with_a_name_word_are_not_people(text, person):
    redacted, counts = redact_text(text)
    assert bool(counts.get("PERSON", 0)) == (person is not None), redacted
    if person is not None:
        assert redacted.count(person) < text.count(person), redacted


def test_rules_mode_never_loads_the_tagger(monkeypatch):
    def boom(*args, **kwargs):
        raise AssertionError("the tagger ran")

    monkeypatch.setattr("cxlens.redact.tag_names", boom)
    text, counts = redact_text("Call me at 415-555-0199, Jane", names="rules")
    assert text == "Call me at [PHONE], [PERSON]" and counts["PERSON"] == 1
    assert redact_texts(["Hi Ann,"], names="rules")[0] == ["Hi [PERSON],"]


def test_batch_and_single_text_agree_and_each_distinct_text_is_tagged_once(monkeypatch):
    calls = []
    real = _name_tagger.tag_names

    def counting(texts, **kwargs):
        calls.append(list(texts))
        return real(texts, **kwargs)

    monkeypatch.setattr("cxlens.redact.tag_names", counting)
    texts = ["I spoke with Shirin Farahani", None, "I spoke with Shirin Farahani", "", "order 112-7300982"]
    out, counts = redact_texts(texts)
    # the order number has no word that could make a tagged span pass the filter: the tagger never reads it
    assert calls == [["I spoke with Shirin Farahani"]]
    assert out[0] == out[2] == redact_text(texts[0])[0] and out[1] is None and out[3] == ""
    assert out[4] == "order 112-7300982" and counts["PERSON"] == 2


@pytest.mark.parametrize("text, could", [
    ("order 112-7300982 shipped on monday", False),
    ("My Battery is Dead", False),          # common words, capitalised
    ("@SpotifyCares the app crashes", False),
    ("ask jon about it", True),             # a listed given name, in lower case
    ("the Zorbinka update", True),          # a capitalised word no list knows
])
def test_only_texts_that_could_hold_a_kept_name_go_to_the_tagger(text, could):
    from cxlens._pii import may_hold_tagged_name

    assert may_hold_tagged_name(text) is could


def test_without_spacy_the_rules_still_redact(monkeypatch, caplog):
    monkeypatch.setattr(_name_tagger, "load_name_tagger", lambda: None)
    assert _name_tagger.tag_names(["Hi Ann,", "x"]) == [[], []]
    assert redact_text("Hi Ann, my email is ann@x.org")[0] == "Hi [PERSON], my email is [EMAIL]"


def test_unknown_name_mode_is_a_clear_error():
    import pandas as pd

    with pytest.raises(ValueError, match="names='ner'.*tagger, rules"):
        redact_text("x", names="ner")
    with pytest.raises(ValueError, match="tagger, rules"):
        redact_frame(pd.DataFrame({"text": ["x"]}), names="spacy")


def test_long_texts_are_tagged_in_pieces_with_offsets_into_the_whole_text():
    long = "word " * 3000 + "I spoke with Shirin Farahani about it. " + "more " * 3000
    spans, = _name_tagger.tag_names([long])
    assert any(long[s:e].startswith("Shirin") for s, e in spans), spans
    huge = ("x" * 50 + " ") * 50_000  # 2.5 million characters: spaCy alone refuses over one million
    pieces = _name_tagger._pieces(huge)
    assert "".join(p for _, p in pieces) == huge and all(len(p) <= _name_tagger.PIECE_CHARS for _, p in pieces)
    assert all(huge[o:o + len(p)] == p for o, p in pieces)


def test_names_in_id_columns_accents_and_overlapping_pairs():
    import pandas as pd

    frame = pd.DataFrame({"agent_name": ["Shirin Farahani", "team-a"], "text": ["Watching Taylor Swift live", "ok"]})
    out, counts = redact_frame(frame)
    assert out["agent_name"].tolist() == ["[PERSON-1]", "team-a"]
    assert out["text"].tolist() == ["Watching [PERSON] live", "ok"]
    assert redact_text("I talked to Zoë yesterday")[0] == "I talked to [PERSON] yesterday"
    # "unknown word + listed surname" is a name unless the pair is a place (not_names.txt)
    assert redact_text("We flew to Sri Lanka")[0] == "We flew to Sri Lanka"
    assert redact_text("In this clip, founder Alvina Lam, chats")[0] == "In this clip, founder [PERSON], chats"
