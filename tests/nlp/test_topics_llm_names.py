"""Topic-name polish: guards, uniqueness and fallback, with a scripted model (no llama.cpp needed)."""

from __future__ import annotations

import builtins
import sys

import pytest

from cxlens.errors import ConfigError, MissingDependencyError
from cxlens.nlp.topics._llm_names import TopicBrief, check_name, gguf_path, load_name_model, polished_names

LUGGAGE = TopicBrief(name="bag / luggage / lost", keywords=("bag", "luggage", "lost", "baggage", "claim"),
                     examples=("@united lost my bag on the way to Denver", "my luggage never arrived",
                               "baggage claim says my bag is in Chicago"))
HOLD = TopicBrief(name="hold / hours / phone", keywords=("hold", "hours", "phone", "wait"),
                  examples=("on hold for 2 hours", "been waiting on the phone forever", "hold times are ridiculous"))


class ScriptedModel:
    """Replies from a list, and records the chats it was asked."""

    def __init__(self, replies):
        self.replies = list(replies)
        self.chats = []

    def reply(self, messages, *, max_tokens=16):
        self.chats.append(messages)
        return self.replies.pop(0)


def test_grounded_short_name_is_kept_and_capitalised():
    [choice] = polished_names([LUGGAGE], ScriptedModel(["lost luggage."]))
    assert (choice.name, choice.source, choice.reason) == ("Lost luggage", "llm", "")


@pytest.mark.parametrize("reply, why", [
    ("", "empty"),
    ("I'm sorry for the inconvenience, but I cannot help with that request", "longer"),
    ("Flights to Denver 2 hours late", "number"),
    ("Lost passport", "passport"),
])
def test_guards_keep_the_key_phrase_name(reply, why):
    [choice] = polished_names([LUGGAGE], ScriptedModel([reply]))
    assert choice.source == "key-phrase" and choice.name == LUGGAGE.name
    assert why in choice.reason


def test_generic_support_words_and_plurals_pass():
    assert check_name("Bags not received", LUGGAGE) == ""
    assert check_name("Long hold times", HOLD) == "word(s) not in the topic's messages: long"


def test_duplicate_model_names_fall_back_so_names_stay_unique():
    delayed = TopicBrief(name="bag / delayed / claim", keywords=("bag", "delayed", "claim"),
                         examples=("my bag is delayed, where do I file a luggage claim",))
    choices = polished_names([LUGGAGE, delayed], ScriptedModel(["Luggage claim", "luggage claim"]))
    assert [c.source for c in choices] == ["llm", "key-phrase"]
    assert choices[1].reason == "same name as another topic"
    assert len({c.name.lower() for c in choices}) == 2


def test_a_model_name_equal_to_another_topics_key_phrase_name_falls_back():
    first = TopicBrief(name="Hold times", keywords=("hold", "times"), examples=("hold times are long",))
    choices = polished_names([first, HOLD], ScriptedModel(["a b c d e f g h", "hold times"]))
    assert [c.source for c in choices] == ["key-phrase", "key-phrase"]
    assert len({c.name.lower() for c in choices}) == 2


def test_prompt_carries_the_topic_and_two_fixed_examples():
    model = ScriptedModel(["Lost luggage"])
    polished_names([LUGGAGE], model)
    chat = model.chats[0]
    assert [m["role"] for m in chat] == ["system", "user", "assistant", "user", "assistant", "user"]
    assert "baggage claim says my bag is in Chicago" in chat[-1]["content"]


def test_missing_packages_and_files_give_clear_errors(monkeypatch, tmp_path):
    with pytest.raises(ConfigError, match="No model file"):
        gguf_path(tmp_path / "none.gguf")
    real_import = builtins.__import__

    def no_xllamacpp(name, *args, **kwargs):
        if name == "xllamacpp":
            raise ImportError(name)
        return real_import(name, *args, **kwargs)

    monkeypatch.delitem(sys.modules, "xllamacpp", raising=False)
    monkeypatch.setattr(builtins, "__import__", no_xllamacpp)
    with pytest.raises(MissingDependencyError, match=r"cxlens\[names\]"):
        load_name_model(tmp_path / "none.gguf")
