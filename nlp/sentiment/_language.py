"""Language of short social posts: script first, then a detector for Latin-script text.

The sentiment model reads English. For everything else it should say "not my
language" rather than guess, so the question asked here is narrower than
general language identification: *is this post English, and if not, what is it?*

1. **Script.** Letters are counted by Unicode script (after removing @handles,
   URLs, digits and emoji). A post with no letters is ``und`` (undetermined:
   emoji-only, numbers, empty). A post written mostly in one non-Latin script
   is decided by the script alone where the script names the language (kana ->
   ``ja``, Hangul -> ``ko``, Han -> ``zh``, Greek, Hebrew, Thai, Ethiopic, ...);
   Cyrillic, Arabic and Devanagari go to the detector restricted to that
   script's languages when it is installed (else ``ru``, ``ar``, ``hi``).
2. **Latin script.** ``lingua-language-detector`` (optional; a Rust n-gram
   model, no downloads) computes confidence values over the Latin-script
   languages. A post is called non-English only when the detector is sure
   (top language not English, confidence >= ``min_confidence``), the post has
   at least ``min_words`` words, and fewer than 20% of its words are common
   English-only words: short English ("thanks", "lol", "no issues whatsoever")
   is otherwise easily mistaken for Afrikaans or Tagalog. Without lingua a small stop-word
   vote over eight European languages is used instead.

Codes are ISO 639-1 where one exists (``en``, ``es``, ``zh``), ``und`` for no
letters. Measured in ``docs/models/sentiment.md``.
"""

from __future__ import annotations

import logging
import re
import threading
from collections.abc import Sequence

import numpy as np

__all__ = ["UNDETERMINED", "LanguageDetector", "detect_languages", "dominant_script"]

log = logging.getLogger(__name__)

UNDETERMINED = "und"
_STRIP = re.compile(r"@\w+|https?://\S+|www\.\S+|[#\d_]")
_WORD = re.compile(r"[^\W\d_]{2,}")

# (first code point, last code point, script)
_SCRIPT_RANGES: tuple[tuple[int, int, str], ...] = (
    (0x0041, 0x024F, "latin"), (0x1E00, 0x1EFF, "latin"),
    (0x0370, 0x03FF, "greek"), (0x0400, 0x052F, "cyrillic"), (0x0530, 0x058F, "armenian"),
    (0x0590, 0x05FF, "hebrew"), (0x0600, 0x06FF, "arabic"), (0x0750, 0x077F, "arabic"),
    (0x0900, 0x097F, "devanagari"), (0x0980, 0x09FF, "bengali"), (0x0A00, 0x0A7F, "gurmukhi"),
    (0x0A80, 0x0AFF, "gujarati"), (0x0B80, 0x0BFF, "tamil"), (0x0C00, 0x0C7F, "telugu"),
    (0x0C80, 0x0CFF, "kannada"), (0x0D00, 0x0D7F, "malayalam"), (0x0E00, 0x0E7F, "thai"),
    (0x10A0, 0x10FF, "georgian"), (0x1100, 0x11FF, "hangul"), (0x1200, 0x139F, "ethiopic"),
    (0x3040, 0x30FF, "kana"), (0x3130, 0x318F, "hangul"), (0x3400, 0x4DBF, "han"),
    (0x4E00, 0x9FFF, "han"), (0xAC00, 0xD7AF, "hangul"), (0xF900, 0xFAFF, "han"),
    (0xFB50, 0xFDFF, "arabic"), (0xFE70, 0xFEFF, "arabic"), (0xFF66, 0xFF9F, "kana"),
)
_SCRIPT_LANGUAGE = {
    "greek": "el", "armenian": "hy", "hebrew": "he", "bengali": "bn", "gurmukhi": "pa", "gujarati": "gu",
    "tamil": "ta", "telugu": "te", "kannada": "kn", "malayalam": "ml", "thai": "th", "georgian": "ka",
    "hangul": "ko", "ethiopic": "am", "kana": "ja", "han": "zh",
    "cyrillic": "ru", "arabic": "ar", "devanagari": "hi",  # defaults when the detector is absent
}
# lingua language names per script the detector decides (lingua.Language attribute names)
_LINGUA_BY_SCRIPT = {
    "cyrillic": ("RUSSIAN", "UKRAINIAN", "BULGARIAN", "SERBIAN", "MACEDONIAN", "BELARUSIAN", "KAZAKH",
                 "MONGOLIAN"),
    "arabic": ("ARABIC", "PERSIAN", "URDU"),
    "devanagari": ("HINDI", "MARATHI"),
    "latin": ("ENGLISH", "SPANISH", "FRENCH", "GERMAN", "ITALIAN", "PORTUGUESE", "DUTCH", "SWEDISH", "DANISH",
              "BOKMAL", "FINNISH", "POLISH", "CZECH", "SLOVAK", "SLOVENE", "CROATIAN", "HUNGARIAN", "ROMANIAN",
              "TURKISH", "INDONESIAN", "MALAY", "VIETNAMESE", "TAGALOG", "CATALAN", "BASQUE", "IRISH", "WELSH",
              "LITHUANIAN", "LATVIAN", "ESTONIAN", "ALBANIAN", "AFRIKAANS", "SWAHILI", "YORUBA", "SOMALI",
              "ZULU", "XHOSA", "TSONGA", "TSWANA", "SOTHO", "SHONA", "GANDA", "ESPERANTO", "LATIN"),
}
# Fallback for Latin script without lingua: frequent function words that are not English words.
_STOPWORDS = {
    "es": "el la los las que de del por para con una es muy pero como est\u00e1 esta mi tu su yo no se lo al hay",
    "fr": "le la les des est une que qui pour avec pas dans sur mon ma mes je tu il nous vous c'est tr\u00e8s",
    "de": "der die das und ist nicht ich du ein eine mit auf f\u00fcr sie wir ihr mein sehr aber auch noch",
    "pt": "o os as que de do da em um uma \u00e9 n\u00e3o com para por meu minha voc\u00ea muito mas est\u00e1",
    "it": "il lo gli che di del della per con una \u00e8 non sono mi ti ci molto ma anche questo",
    "nl": "de het een en is niet ik je jij van met op voor zijn maar ook nog mijn wat",
    "id": "yang dan di ini itu tidak saya aku kamu dengan untuk dari ada juga sudah",
    "tr": "ve bir bu da de i\u00e7in ile ama \u00e7ok ben sen ne var yok gibi",
}
_STOPWORD_SETS = {lang: frozenset(words.split()) for lang, words in _STOPWORDS.items()}
# Common English words that are not common words of the other Latin-script languages: a post where
# at least ENGLISH_SHARE of the words are among them is English without asking the detector.
_ENGLISH_ONLY = frozenset(
    "the and is are was were to of on for with my your you i i'm it it's this that be have has had do does did "
    "at we they but so just can will what how why when where who which not an our their there here been being "
    "would could should about from out up get got any all some very really please thanks thank help order "
    "check status account service support issue issues problem problems working work still waiting time day "
    "today now new good great bad love hate need want know like one back again never ever whatsoever kindly "
    "flight delivery refund app phone customer".split())
ENGLISH_SHARE = 0.2
_ENGLISH_WORDS = frozenset(
    "the a an and is are was were to of in on for with my your you i it this that not no be have has do does "
    "at me we they but so just can will what how why when from".split())


def _script_of(code: int) -> str | None:
    for lo, hi, script in _SCRIPT_RANGES:
        if lo <= code <= hi:
            return script
    return None


_ASCII_LETTER = re.compile(r"[A-Za-z]")
_NON_ASCII = re.compile(r"[^\x00-\x7f]")


def dominant_script(text: str) -> tuple[str | None, int, bool]:
    """``(script, n_letters, has_kana)`` of the letters in ``text`` (handles, URLs, digits removed)."""
    stripped = _STRIP.sub(" ", text)
    n_ascii = len(_ASCII_LETTER.findall(stripped))  # ASCII letters are Latin: counted in C, not per character
    counts: dict[str, int] = {"latin": n_ascii} if n_ascii else {}
    for ch in _NON_ASCII.findall(stripped):
        if ch.isalpha():
            script = _script_of(ord(ch)) or "other"
            counts[script] = counts.get(script, 0) + 1
    if not counts:
        return None, 0, False
    n = sum(counts.values())
    script = max(counts, key=counts.get)
    if script == "han" and counts.get("kana", 0):
        script = "kana"
    return script, n, bool(counts.get("kana"))


class LanguageDetector:
    """Per-post language codes (see the module docstring for the rules).

    Parameters
    ----------
    min_confidence : float
        Detector confidence needed to call a Latin-script post non-English.
    min_words : int
        Words (two letters or more) needed to call a Latin-script post non-English.
    use_lingua : bool
        Use ``lingua-language-detector`` when installed (default); ``False`` forces the stop-word vote.
    """

    _lock = threading.Lock()
    _detectors: dict[str, object] = {}

    def __init__(self, *, min_confidence: float = 0.5, min_words: int = 3, use_lingua: bool = True) -> None:
        self.min_confidence = min_confidence
        self.min_words = min_words
        self.use_lingua = use_lingua

    @classmethod
    def _lingua(cls, script: str):
        """A lingua detector for one script's languages, built once per process (None if not installed)."""
        with cls._lock:
            if script not in cls._detectors:
                try:
                    from lingua import Language, LanguageDetectorBuilder
                except ImportError:
                    log.info("lingua-language-detector is not installed; using the stop-word fallback "
                             "(pip install lingua-language-detector for better language detection)")
                    cls._detectors[script] = None
                else:
                    langs = [getattr(Language, name) for name in _LINGUA_BY_SCRIPT[script] if hasattr(Language, name)]
                    cls._detectors[script] = (LanguageDetectorBuilder.from_languages(*langs).with_low_accuracy_mode()
                                               .with_preloaded_language_models().build())
            return cls._detectors[script]

    @property
    def backend(self) -> str:
        """``lingua`` or ``stopwords``: what decides Latin-script posts."""
        return "lingua" if self.use_lingua and self._lingua("latin") is not None else "stopwords"

    def _latin(self, text: str) -> str:
        words = _WORD.findall(_STRIP.sub(" ", text).lower())
        if len(words) < self.min_words:
            return "en"
        if sum(w in _ENGLISH_ONLY for w in words) >= ENGLISH_SHARE * len(words):
            return "en"
        detector = self._lingua("latin") if self.use_lingua else None
        if detector is None:
            return _stopword_vote(words)
        values = detector.compute_language_confidence_values(text)
        if not values:
            return "en"
        top = values[0]
        code = top.language.iso_code_639_1.name.lower()
        if code != "en" and top.value >= self.min_confidence:
            return code
        return "en"

    def _other(self, text: str, script: str) -> str:
        if script in _LINGUA_BY_SCRIPT and self.use_lingua:
            detector = self._lingua(script)
            if detector is not None:
                found = detector.detect_language_of(text)
                if found is not None:
                    return found.iso_code_639_1.name.lower()
        return _SCRIPT_LANGUAGE.get(script, UNDETERMINED)

    def detect(self, texts: Sequence[str]) -> np.ndarray:
        """ISO 639-1 code (or ``und``) for each text, as an object array."""
        texts = ["" if text is None else str(text) for text in texts]
        found: dict[str, str] = {}  # each distinct text is detected once
        for text in texts:
            if text in found:
                continue
            script, n_letters, _ = dominant_script(text)
            if script is None or n_letters == 0 or script == "other":
                found[text] = UNDETERMINED
            elif script == "latin":
                found[text] = self._latin(text)
            else:
                found[text] = self._other(text, script)
        out = np.empty(len(texts), dtype=object)
        out[:] = [found[text] for text in texts]
        return out


def _stopword_vote(words: list[str]) -> str:
    english = sum(w in _ENGLISH_WORDS for w in words)
    best, hits = "en", english
    for lang, stop in _STOPWORD_SETS.items():
        n = sum(w in stop for w in words)
        if n > hits:
            best, hits = lang, n
    return best if hits >= 2 or best == "en" else "en"


def detect_languages(texts: Sequence[str], *, min_confidence: float = 0.5, min_words: int = 3) -> np.ndarray:
    """Language code per text (``LanguageDetector(...).detect(texts)``)."""
    return LanguageDetector(min_confidence=min_confidence, min_words=min_words).detect(texts)
