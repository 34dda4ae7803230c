"""The posts the sentiment model reads and the rules around it: normalisation, labels, the lexicon's view
as probabilities, and the frame of :data:`~cxlens.nlp.sentiment.SENTIMENT_COLUMNS` (language rule, empty
posts). :class:`~cxlens.nlp.sentiment.SentimentClassifier` and ``score_sentiment`` share them."""

from __future__ import annotations

import html
import re
from collections.abc import Callable, Sequence

import numpy as np
import pandas as pd

from cxlens.errors import DataError
from cxlens.nlp import Texts

__all__ = ["LABELS", "MAX_LEXICON_CHARS", "SUPPORTED_LANGUAGES", "Scores", "annotated_frame", "best_label_index",
           "declined_scores", "has_letters", "lexicon_scores", "normalise_labels", "normalise_post", "posts_batch"]

LABELS = ("negative", "neutral", "positive")
SUPPORTED_LANGUAGES = frozenset({"en"})
MAX_LEXICON_CHARS = 5000

_USER = re.compile(r"@\w+")
_URL = re.compile(r"https?://\S+|www\.\S+")
_LETTER = re.compile(r"[^\W\d_]")
_LABEL_WORDS = {
    "negative": "negative", "neg": "negative", "-1": "negative", "-1.0": "negative",
    "neutral": "neutral", "neu": "neutral", "0": "neutral", "0.0": "neutral", "none": "neutral",
    "positive": "positive", "pos": "positive", "1": "positive", "1.0": "positive",
}
#: Columns of ``predict_proba`` read when choosing a label: neutral first, so a tie (the uniform
#: probabilities of a post the model declines) goes to neutral.
_TIE_ORDER = np.array([1, 0, 2])


def normalise_post(text: object) -> str:
    """The text the model reads: HTML entities decoded, @handles -> ``@user``, links -> ``http``.

    The same normalisation TweetEval applies, so training and use see the same form.
    """
    if text is None or (isinstance(text, float) and np.isnan(text)):
        return ""
    text = html.unescape(str(text))
    text = _URL.sub("http", _USER.sub("@user", text))
    return " ".join(text.split())


def normalise_labels(values: Sequence[object]) -> np.ndarray:
    """Map label spellings to negative / neutral / positive (``neg``, ``-1``/``0``/``1``, any case).

    Raises :class:`DataError` listing the values it cannot read.
    """
    out = np.empty(len(values), dtype=object)
    bad: set[str] = set()
    for i, value in enumerate(values):
        key = "" if value is None else str(value).strip().lower()
        label = _LABEL_WORDS.get(key)
        if label is None:
            bad.add(key)
        out[i] = label
    if bad:
        raise DataError(f"Sentiment labels must be negative/neutral/positive (or neg/neu/pos, -1/0/1); "
                        f"found {sorted(bad)[:10]}. Map them before training.")
    return out


def posts_batch(X: object, who: str) -> Texts:
    """The normalised posts of ``X`` (a list, a Series, a 1-D array or a :class:`~cxlens.nlp.Texts`) as a batch.

    A :class:`Texts` keeps its vectors when normalising changes none of its texts.
    """
    if isinstance(X, str):
        raise DataError(f"{who} takes a sequence of texts, not a single string: wrap it in a list.")
    return Texts.of(X).map(normalise_post)


def has_letters(text: str) -> bool:
    return bool(_LETTER.search(_URL.sub(" ", _USER.sub(" ", text))))


def best_label_index(proba: np.ndarray) -> np.ndarray:
    """Index (into :data:`LABELS`) of the most probable label per row; a tie goes to neutral."""
    return _TIE_ORDER[proba[:, _TIE_ORDER].argmax(axis=1)]


Scores = tuple[np.ndarray, np.ndarray, np.ndarray]  # probabilities (n, 3), sentiment_score (n,), flag (n,)


def declined_scores(n: int) -> Scores:
    """Uniform probabilities, score 0, no flag: what a row nobody scores gets."""
    return np.full((n, len(LABELS)), 1.0 / 3.0), np.zeros(n, dtype=np.float64), np.full(n, None, dtype=object)


def lexicon_scores(posts: Sequence[str], rows: np.ndarray, *, flag: str | None = None) -> Scores:
    """The lexicon's view of ``posts[rows]`` as probabilities (other rows: :func:`declined_scores`).

    VADER gives a label (compound >= 0.05 positive, <= -0.05 negative), its compound ``c`` and a calibrated
    confidence ``q`` (:data:`cxlens.nlp.sentiment._lexicon.CONFIDENCE_BINS`). The probabilities put ``q`` on
    the label and split the rest so that p(positive) - p(negative) = ``c`` where that fits (always for a
    neutral label; for a polar one while ``|c| <= q``): positive ``(max(q - c, 0), 1 - q - p_neg, q)``,
    negative ``(q, 1 - q - p_pos, max(q + c, 0))``, neutral ``((1 - q - c) / 2, q, (1 - q + c) / 2)``.
    Their argmax is the lexicon's label and their maximum its confidence; the returned score is ``c``
    itself (for a strong compound, ``|c| > q``, stronger than p(positive) - p(negative)).
    """
    from cxlens.nlp.sentiment._lexicon import LexiconSentiment

    proba, score, flags = declined_scores(len(posts))
    idx = np.flatnonzero(rows)
    if not len(idx):
        return proba, score, flags
    labels, compound, q = LexiconSentiment().score([posts[i][:MAX_LEXICON_CHARS] for i in idx])
    c = np.asarray(compound, dtype=np.float64)
    q = np.asarray(q, dtype=np.float64)
    p = np.empty((len(idx), len(LABELS)))
    pos, neg, neu = labels == "positive", labels == "negative", labels == "neutral"
    p[pos, 2] = q[pos]
    p[pos, 0] = np.maximum(q[pos] - c[pos], 0.0)
    p[pos, 1] = 1.0 - p[pos, 2] - p[pos, 0]
    p[neg, 0] = q[neg]
    p[neg, 2] = np.maximum(q[neg] + c[neg], 0.0)
    p[neg, 1] = 1.0 - p[neg, 0] - p[neg, 2]
    p[neu, 1] = q[neu]
    p[neu, 0] = (1.0 - q[neu] - c[neu]) / 2.0
    p[neu, 2] = (1.0 - q[neu] + c[neu]) / 2.0
    proba[idx], score[idx], flags[idx] = p, c, flag
    return proba, score, flags


def annotated_frame(X: object, *, scores: Callable[[Texts, np.ndarray], Scores], languages: Sequence[str] | None,
               who: str) -> pd.DataFrame:
    """The rows of :data:`SENTIMENT_COLUMNS` for ``X``: language rule, empty posts, then ``scores(posts, rows)``
    on the rows left (non-empty posts in a supported language, or without letters)."""
    from cxlens.nlp.sentiment._language import UNDETERMINED, LanguageDetector

    posts = posts_batch(X, who)
    n = len(posts)
    if languages is None:
        language = LanguageDetector().detect(posts.tolist()) if n else np.empty(0, dtype=object)
    else:
        if len(languages) != n:
            raise DataError(f"languages has {len(languages)} values for {n} texts.")
        language = np.asarray([str(v).lower() if v is not None else UNDETERMINED for v in languages], dtype=object)
    empty = np.array([not p.strip() for p in posts], dtype=bool)
    letters = np.array([has_letters(p) for p in posts], dtype=bool)
    unsupported = ~empty & letters & ~np.isin(language, list(SUPPORTED_LANGUAGES))
    proba, score, flag = scores(posts, ~empty & ~unsupported)
    flag[empty] = "no_text"
    flag[unsupported] = "unsupported_language"
    best = best_label_index(proba)
    # text columns typed explicitly: the same dtype whatever the batch holds (a batch without flags included)
    return pd.DataFrame({
        "sentiment": pd.Series(np.asarray(LABELS, dtype=object)[best], dtype="str"),
        "sentiment_score": np.clip(score, -1.0, 1.0),
        "sentiment_confidence": proba[np.arange(n), best],
        "language": pd.Series(language, dtype="str"),
        "sentiment_flag": pd.Series(flag, dtype="str"),
    })
