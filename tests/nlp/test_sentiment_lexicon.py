"""The lexicon path (VADER + support fixes), language detection and the scoring rules around them."""

from __future__ import annotations

import numpy as np
import pytest

from cxlens.errors import DataError
from cxlens.nlp.sentiment import LanguageDetector, dominant_script
from cxlens.nlp.sentiment import LexiconSentiment, rewrite_support_phrases
from cxlens.nlp.sentiment import normalise_labels, normalise_post, score_sentiment

pytest.importorskip("vaderSentiment")


@pytest.mark.parametrize("text, expected", [
    ("no problems at all", "positive"),
    ("No problem at all, thanks for the quick fix", "positive"),
    ("I can't complain", "positive"),
    ("my app is not working", "negative"),
    ("the wifi still isn't working", "negative"),
    ("thanks for nothing", "negative"),
    ("Thanks for nothing @Acme, 3 hours on hold", "negative"),
    ("still waiting for my refund", "negative"),
    ("my parcel never arrived", "negative"),
    ("Kindly check my order status", "neutral"),
    ("Can you help me reset my password?", "neutral"),
])
def test_sentiment_lexicon_support_cases(text, expected):
    assert LexiconSentiment().predict([text]).tolist() == [expected]


def test_sentiment_lexicon_plain_vader_gets_them_wrong():
    plain = LexiconSentiment(fixes=False).predict(["thanks for nothing", "kindly help me", "not working"])
    assert plain.tolist() == ["positive", "positive", "neutral"]


def test_sentiment_lexicon_rewrites_are_visible():
    assert "broken" in rewrite_support_phrases("it does not work")
    assert "fine" in rewrite_support_phrases("no issues whatsoever")


@pytest.mark.parametrize("text", ["", "   ", None, "😡😡😡", "🙂", "!!!", "@user", "http://x.y/z"])
def test_sentiment_fast_odd_inputs(text):
    out = score_sentiment([text], fast=True)
    assert out.shape[0] == 1
    assert -1.0 <= out["sentiment_score"].iloc[0] <= 1.0
    assert 0.0 <= out["sentiment_confidence"].iloc[0] <= 1.0
    assert out["sentiment"].iloc[0] in ("negative", "neutral", "positive")


def test_sentiment_fast_empty_and_emoji():
    out = score_sentiment(["", "😡😡😡", "😍"], fast=True)
    assert out["sentiment_flag"].iloc[0] == "no_text"
    assert out["sentiment"].tolist() == ["neutral", "negative", "positive"]
    assert out["language"].iloc[1] == "und"


def test_sentiment_fast_very_long_text():
    text = "The flight was delayed and nobody told us anything. " * 3000
    out = score_sentiment([text], fast=True)
    assert out["sentiment"].iloc[0] == "negative"


@pytest.mark.parametrize("text, lang", [
    ("我的订单还没有到，太慢了", "zh"),
    ("注文がまだ届いていません", "ja"),
    ("주문이 아직 안 왔어요", "ko"),
    ("Мой заказ до сих пор не пришел", "ru"),
])
def test_sentiment_non_english_is_flagged_not_guessed(text, lang):
    out = score_sentiment([text], fast=True)
    row = out.iloc[0]
    assert row["language"] == lang
    assert row["sentiment_flag"] == "unsupported_language"
    assert row["sentiment"] == "neutral" and row["sentiment_score"] == 0.0
    assert row["sentiment_confidence"] < 0.5


def test_sentiment_language_latin_needs_evidence():
    det = LanguageDetector()
    langs = det.detect(["thanks", "lol ok", "great service today, thank you so much!",
                        "Mi pedido no ha llegado todavía y nadie me responde"])
    assert langs[:3].tolist() == ["en", "en", "en"]
    assert langs[3] == "es"


def test_sentiment_language_stopword_fallback():
    det = LanguageDetector(use_lingua=False)
    langs = det.detect(["Mi pedido no ha llegado y es muy tarde", "where is my order, it is late", "😀"])
    assert langs.tolist() == ["es", "en", "und"]


def test_sentiment_dominant_script():
    assert dominant_script("@user hello http://x")[0] == "latin"
    assert dominant_script("今日は")[0] == "kana"
    assert dominant_script("🙂 123")[0] is None


def test_sentiment_known_languages_skip_detection():
    out = score_sentiment(["no problems at all", "pas de problème"], fast=True, languages=["en", "fr"])
    assert out["language"].tolist() == ["en", "fr"]
    assert out["sentiment_flag"].isna().tolist() == [True, False]
    assert out["sentiment_flag"].iloc[1] == "unsupported_language"


def test_sentiment_labels_and_posts_normalised():
    assert normalise_labels(["Neg", "0", "POSITIVE", 1]).tolist() == ["negative", "neutral", "positive", "positive"]
    with pytest.raises(DataError, match="meh"):
        normalise_labels(["meh"])
    assert normalise_post("@Acme see https://t.co/x &amp; more") == "@user see http & more"
    with pytest.raises(DataError):
        score_sentiment("a single string")
    assert np.all(score_sentiment([], fast=True).columns == ["sentiment", "sentiment_score", "sentiment_confidence",
                                                                "language", "sentiment_flag"])


@pytest.mark.parametrize("text, expected", [
    ("hello world", ("latin", 10, False)),
    ("@user 123 https://x.co #1", (None, 0, False)),
    ("Привет мир hello", ("cyrillic", 14, False)),
    ("日本語のテキスト", ("kana", 8, True)),
    ("中文字 ab", ("han", 5, False)),
    ("café Ñandú", ("latin", 9, False)),
    ("😀😀 !!", (None, 0, False)),
])
def test_dominant_script_counts_letters_per_script(text, expected):
    assert dominant_script(text) == expected
