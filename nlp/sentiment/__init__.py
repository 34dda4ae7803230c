"""Sentiment of customer messages and social mentions: one classifier (:class:`SentimentClassifier`) and its
loader (:func:`load_sentiment_model`), the lexicon path and language detection."""

from __future__ import annotations

from cxlens.nlp.sentiment._language import (  # noqa: F401
    LanguageDetector,
    UNDETERMINED,
    detect_languages,
    dominant_script,
)
from cxlens.nlp.sentiment._lexicon import (  # noqa: F401
    CONFIDENCE_BINS,
    LEXICON_OVERRIDES,
    LexiconSentiment,
    PHRASE_REWRITES,
    rewrite_support_phrases,
    support_cues,
)
from cxlens.nlp.sentiment._model import (  # noqa: F401
    ARTIFACT_DIR,
    FROZEN_ARTIFACT_DIR,
    SENTIMENT_COLUMNS,
    SHIPPED_MODELS,
    SentimentClassifier,
    is_shipped_model,
    load_sentiment_model,
    score_sentiment,
)
from cxlens.nlp.sentiment._posts import (  # noqa: F401
    LABELS,
    normalise_labels,
    normalise_post,
)

__all__ = [
    "ARTIFACT_DIR",
    "CONFIDENCE_BINS",
    "FROZEN_ARTIFACT_DIR",
    "LABELS",
    "LEXICON_OVERRIDES",
    "LanguageDetector",
    "LexiconSentiment",
    "PHRASE_REWRITES",
    "SENTIMENT_COLUMNS",
    "SHIPPED_MODELS",
    "SentimentClassifier",
    "UNDETERMINED",
    "detect_languages",
    "dominant_script",
    "is_shipped_model",
    "load_sentiment_model",
    "normalise_labels",
    "normalise_post",
    "rewrite_support_phrases",
    "score_sentiment",
    "support_cues",
]
