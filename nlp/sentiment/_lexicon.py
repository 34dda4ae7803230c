"""A fast lexicon sentiment baseline: VADER with customer-support fixes.

VADER (``vaderSentiment``) is the lexicon most teams run on social posts. Out of
the box it misreads the language of customer support: "not working" and "never
arrived" carry no sentiment for it, "thanks for nothing" is positive, and the
politeness of a request ("kindly", "please help") makes a neutral request read
as positive. :class:`LexiconSentiment` keeps VADER's scoring and fixes those
cases in two places:

* **phrase rewrites** (:data:`PHRASE_REWRITES`): a support phrase is replaced by
  one word whose valence VADER knows before scoring ("not working" -> "broken",
  "thanks for nothing" -> "useless", "no problems at all" -> "fine");
* **lexicon overrides** (:data:`LEXICON_OVERRIDES`): politeness words lose
  their valence ("kindly", "please", "help"), a few emoji gain one.

The label uses VADER's published thresholds (compound >= 0.05 positive,
<= -0.05 negative); the score is the compound in [-1, 1]. The confidence is
the share of SemEval tweets with a compound of that size whose gold label
matched (:data:`CONFIDENCE_BINS`, measured by ``benchmarks/bench_sentiment.py``),
so it is calibrated on average rather than a raw lexicon number.

It is the ``--fast`` path of ``cxlens mentions score`` and the floor the
trained model is reported against.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Sequence

import numpy as np

from cxlens.errors import MissingDependencyError

__all__ = [
    "CONFIDENCE_BINS",
    "LEXICON_OVERRIDES",
    "LexiconSentiment",
    "PHRASE_REWRITES",
    "rewrite_support_phrases",
    "support_cues",
]

LABELS = ("negative", "neutral", "positive")
_FAIL_VERBS = (
    r"work|working|worked|works|load|loading|loaded|connect|connecting|connected|arrive|arrived|"
    r"receive|received|deliver|delivered|respond|responding|responded|answer|answered|reply|replied|"
    r"fix|fixed|resolve|resolved|refund|refunded|help|helped|helping|show up|showed up|go through|went through"
)
_NOT = r"(?:not|isn'?t|is not|aren'?t|are not|wasn'?t|was not|weren'?t|won'?t|will not|doesn'?t|does not|" \
       r"don'?t|do not|didn'?t|did not|hasn'?t|has not|haven'?t|have not|hadn'?t|can'?t|cannot|can not|" \
       r"couldn'?t|could not|never|still not|yet to be|nobody|no one|no1)"

#: (pattern, replacement) applied in order, case-insensitively, before VADER scores the text.
PHRASE_REWRITES: tuple[tuple[str, str], ...] = (
    (r"\bthanks?(?: you)? (?:so much |very much |a lot )?for nothing\b", "useless"),
    (r"\bthanks? a lot for (?:nothing|ruining|wasting|ignoring)\b", "useless"),
    (rf"\b{_NOT}(?: \w+)? (?:{_FAIL_VERBS})\b", "broken"),
    (r"\b(?:stopped|stops|quit|keeps? (?:on )?failing|keeps? crashing|keeps? freezing) ?(?:working)?\b", "broken"),
    (r"\b(?:no|zero|without(?: any)?|never (?:had|have) (?:any|a)) (?:problems?|issues?|complaints?|hassles?|"
     r"worries|trouble)(?: (?:at all|whatsoever|so far))?\b", "fine"),
    (r"\bnot (?:a|an|any) (?:problem|issue|trouble)\b", "fine"),
    (r"\b(?:i )?(?:can'?t|cannot|can not) complain\b", "good"),
    (r"\bstill (?:waiting|no|nothing|have ?n[o']t|haven'?t|not)\b", "disappointed"),
    (r"\b(?:been )?(?:waiting|on hold) (?:for )?(?:over |more than |almost |nearly )?(?:\d+|an?|two|three|several)"
     r" (?:hours?|hrs?|days?|weeks?|months?|minutes?|mins?)\b", "disappointed"),
    (r"\bno (?:response|reply|answer|one (?:answers|responds|replies|cares))\b", "disappointed"),
    (r"\b(?:worst|terrible|horrible|awful) (?:customer )?(?:service|support|experience)\b", "worst"),
)
_COMPILED = tuple((re.compile(p, re.IGNORECASE), r) for p, r in PHRASE_REWRITES)
# Cheap substring tests run before each pattern (lower-cased text): most posts skip most patterns.
_TRIGGERS: tuple[tuple[str, ...], ...] = (
    ("nothing",), ("thank",),
    ("not", "n't", "nt ", "never", "cannot", "nobody", "no one", "no1", "yet to"),
    ("stop", "quit", "keep"),
    ("no ", "zero", "without", "never"),
    ("not a", "not an", "not any"),
    ("complain",),
    ("still",),
    ("wait", "hold"),
    ("no ",),
    ("worst", "terrible", "horrible", "awful"),
)

#: Word -> valence (VADER's -4..4 scale); ``None`` removes the word from the lexicon.
LEXICON_OVERRIDES: dict[str, float | None] = {
    "kindly": None, "please": None, "pls": None, "plz": None, "help": None, "helps": None,
    "support": None, "care": None, "free": None, "pray": None, "matter": None,
    "broken": -2.1, "useless": -1.8, "refund": None,
    # emoji descriptions VADER substitutes (see SentimentIntensityAnalyzer.emojis)
    "pouting": -2.0, "symbols": -1.0, "rolling": -0.5, "enraged": -2.5, "steam": -1.0,
}

#: Confidence of a VADER label by |compound| bin edges, measured on the SemEval pool (see module docs).
#: (upper edge of |compound|, p(label correct) for a polar label, p(correct) for a neutral label)
CONFIDENCE_BINS: tuple[tuple[float, float, float], ...] = (
    (0.05, 0.0, 0.55),
    (0.25, 0.50, 0.50),
    (0.50, 0.60, 0.50),
    (0.75, 0.68, 0.50),
    (1.01, 0.76, 0.50),
)

_USER = re.compile(r"@\w+")
_URL = re.compile(r"https?://\S+|www\.\S+")


_CUE_SIGN = {"fine": 1, "good": 1, "broken": -1, "useless": -1, "disappointed": -1, "worst": -1}


def _rewrite(text: str) -> tuple[str, int]:
    text = _URL.sub(" ", _USER.sub(" ", text)).replace("\u2019", "'")
    lower = text.lower()
    cue = 0
    for (pattern, replacement), triggers in zip(_COMPILED, _TRIGGERS):
        if any(t in lower for t in triggers):
            text, n = pattern.subn(replacement, text)
            if n:
                cue += n * _CUE_SIGN.get(replacement, 0)
                lower = text.lower()
    return text, cue


def rewrite_support_phrases(text: str) -> str:
    """``text`` with the support phrases of :data:`PHRASE_REWRITES` replaced."""
    return _rewrite(text)[0]


def support_cues(texts: Sequence[str]) -> np.ndarray:
    """Per text, the polarity of the support phrases found: +1 ("no problems at all", "can't complain"),
    -1 ("not working", "thanks for nothing", "still waiting"), 0 (none, or as many of each)."""
    return np.array([np.sign(_rewrite("" if t is None else str(t))[1]) for t in texts], dtype=np.int64)


@functools.lru_cache(maxsize=2)
def _vader_analyzer(fixes: bool):
    """VADER's analyzer (with the support overrides when ``fixes``), built once per process: it reads
    its 7,500-word lexicon from disk, which costs more than scoring a batch of posts."""
    try:
        from vaderSentiment.vaderSentiment import SentimentIntensityAnalyzer
    except ImportError as exc:  # pragma: no cover - part of the nlp extra
        raise MissingDependencyError(package="vaderSentiment", feature="Lexicon sentiment", extra="nlp") from exc
    analyzer = SentimentIntensityAnalyzer()
    if fixes:
        for word, valence in LEXICON_OVERRIDES.items():
            if valence is None:
                analyzer.lexicon.pop(word, None)
            else:
                analyzer.lexicon[word] = valence
    return analyzer


class LexiconSentiment:
    """VADER with customer-support fixes; batched like every cxlens scorer.

    Parameters
    ----------
    fixes : bool
        Apply the support-domain rewrites and overrides (default). ``False`` is
        plain VADER, kept for comparison.

    Examples
    --------
    >>> lex = LexiconSentiment()
    >>> lex.predict(["no problems at all", "my app is not working"]).tolist()
    ['positive', 'negative']
    """

    def __init__(self, *, fixes: bool = True) -> None:
        self.fixes = fixes

    def _analyzer(self):
        return _vader_analyzer(self.fixes)

    def polarity(self, texts: Sequence[str]) -> np.ndarray:
        """``(n, 4)`` float array: VADER's neg, neu, pos and compound for each text."""
        analyzer = self._analyzer()
        texts = ["" if text is None else str(text) for text in texts]
        # each distinct text is scored once: archives repeat short messages ("thanks", "ok") a lot
        distinct = dict.fromkeys(texts)
        scored = np.zeros((len(distinct), 4), dtype=np.float64)
        for i, text in enumerate(distinct):
            distinct[text] = i
            if self.fixes:
                text = rewrite_support_phrases(text)
            if not text.strip():
                scored[i] = (0.0, 1.0, 0.0, 0.0)
                continue
            s = analyzer.polarity_scores(text)
            scored[i] = (s["neg"], s["neu"], s["pos"], s["compound"])
        return scored[[distinct[text] for text in texts]] if texts else np.zeros((0, 4), dtype=np.float64)

    def score(self, texts: Sequence[str]) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """``(labels, scores, confidences)`` for a batch of texts."""
        compound = self.polarity(texts)[:, 3]
        labels = np.where(compound >= 0.05, "positive", np.where(compound <= -0.05, "negative", "neutral"))
        magnitude = np.abs(compound)
        confidence = np.empty(len(compound), dtype=np.float64)
        lower = 0.0
        for upper, p_polar, p_neutral in CONFIDENCE_BINS:
            in_bin = (magnitude >= lower) & (magnitude < upper)
            confidence[in_bin] = np.where(labels[in_bin] == "neutral", p_neutral, p_polar)
            lower = upper
        return labels.astype(object), compound, confidence

    def predict(self, texts: Sequence[str]) -> np.ndarray:
        """The label (negative / neutral / positive) of each text."""
        return self.score(texts)[0]
