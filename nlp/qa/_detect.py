"""Step detection: which scorecard steps (and forbidden items) each agent message shows.

Two kinds of evidence are combined per (message, item):

* **rules** -- ``phrases`` (spaCy ``PhraseMatcher`` on lower-cased tokens of a blank English
  pipeline), ``regexes`` (Python ``re``, case-insensitive) and ``patterns`` (spaCy ``Matcher``
  token patterns). A rule match is certain evidence: score 1.
* **semantic similarity** -- every message is cut into sentences (``granularity="sentence"``) and
  each sentence is encoded once; one matrix product compares all of them with every prototype
  (an item's description and examples). A message's similarity to an item is the best
  (sentence, prototype) cosine. Forbidden items use semantics only when they have examples.

Each item has a threshold: its own ``threshold`` field, else one *calibrated* by :meth:`StepDetector.fit`
(from labelled messages when given, else from the scorecard's own examples, leave-one-out), else the
scorecard's / detector's default. Scores are rescaled so that 0.5 is the decision point for every
item: ``score >= 0.5`` means *found*, whatever the raw cosine scale of the encoder.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd

from sklearn.base import BaseEstimator

from cxlens.errors import ConfigError, NotFittedError
from cxlens.nlp import Texts
from cxlens.nlp.qa._scorecard import ForbiddenItem, Scorecard
from cxlens.nlp.qa._tokenizer import blank_english

__all__ = ["Column", "Detections", "StepDetector", "split_units"]

log = logging.getLogger(__name__)

#: Default semantic thresholds (cosine) per encoder family, used when nothing else sets one.
DEFAULT_THRESHOLDS = {"minilm": 0.55, "tfidf": 0.35}
MAX_UNITS = 32
_BREAK = re.compile(r"(?<=[.!?])\s+|\n\s*")
_LEADING_HANDLES = re.compile(r"^(?:\s*@\w+)+\s*")
_NEVER = 2.0  # a threshold no cosine reaches: semantic evidence switched off


def split_units(text: str, *, granularity: str = "sentence") -> list[tuple[int, int]]:
    """Character spans of the units compared with the prototypes (sentences, or the whole text)."""
    text = text or ""
    if granularity == "message" or not text.strip():
        return [(0, len(text))]
    spans: list[tuple[int, int]] = []
    bounds = [0] + [x for m in _BREAK.finditer(text) for x in (m.start(), m.end())] + [len(text)]
    for start, end in zip(bounds[::2], bounds[1::2]):
        while start < end and text[start].isspace():
            start += 1
        while end > start and text[end - 1].isspace():
            end -= 1
        if end - start < 3 and spans:  # a stray "!" or emoji: glue to the previous unit
            spans[-1] = (spans[-1][0], end)
        elif end > start:
            spans.append((start, end))
    if not spans:
        return [(0, len(text))]
    if len(spans) > MAX_UNITS:
        spans = spans[:MAX_UNITS - 1] + [(spans[MAX_UNITS - 1][0], spans[-1][1])]
    return spans


def unit_text(text: str) -> str:
    return _LEADING_HANDLES.sub("", text).strip() or text


@dataclass(frozen=True)
class Column:
    """One detectable thing: a step or forbidden item of one script."""

    script: str
    item: str
    kind: str        # "step" or "forbidden"
    speaker: str

    @property
    def key(self) -> str:
        return f"{self.script}/{self.item}"


@dataclass
class Detections:
    """Detector output for a batch of texts (``n`` texts x ``C`` columns).

    similarity: best semantic cosine (``-1`` where semantics are off); rule: a rule matched;
    score: calibrated score in [0, 1] (rule match = 1); found: ``score >= 0.5``;
    rule_span / unit_span: character spans of the evidence (``(-1, -1)`` when none).
    """

    columns: list[Column]
    similarity: np.ndarray
    rule: np.ndarray
    score: np.ndarray
    rule_span: np.ndarray    # (n, C, 2) int
    unit_span: np.ndarray    # (n, C, 2) int

    @property
    def found(self) -> np.ndarray:
        return self.score >= 0.5

    def evidence(self, i: int, c: int) -> tuple[int, int]:
        """The span behind a detection: the rule match if any, else the best sentence."""
        span = self.rule_span[i, c] if self.rule[i, c] else self.unit_span[i, c]
        return int(span[0]), int(span[1])


class _Rules:
    """Phrase / regex / token-pattern matching for all columns at once."""

    def __init__(self, columns: Sequence[Column], items: Sequence) -> None:
        self.regexes = [(c, re.compile(rx, re.IGNORECASE)) for c, item in enumerate(items) for rx in item.regexes]
        self.need_spacy = any(item.phrases or item.patterns for item in items)
        self.nlp = self.phrases = self.matcher = None
        if self.need_spacy:
            try:
                import spacy
                from spacy.matcher import Matcher, PhraseMatcher
            except ImportError as exc:
                from cxlens.errors import MissingDependencyError

                raise MissingDependencyError(package="spacy", feature="Scorecard phrases and patterns",
                                             extra="nlp") from exc
            self.nlp = blank_english()
            self.phrases = PhraseMatcher(self.nlp.vocab, attr="LOWER")
            self.matcher = Matcher(self.nlp.vocab)
            for c, item in enumerate(items):
                if item.phrases:
                    self.phrases.add(str(c), [self.nlp.make_doc(p) for p in item.phrases])
                if item.patterns:
                    try:
                        self.matcher.add(str(c), [list(p) for p in item.patterns])
                    except (ValueError, KeyError, TypeError) as exc:
                        raise ConfigError(f"{columns[c].key}: bad spaCy token pattern: {exc}") from exc
        self.n = len(items)

    def match(self, texts: Sequence[str], rows: np.ndarray, hit: np.ndarray, span: np.ndarray,
              allowed: np.ndarray) -> None:
        """Fill ``hit[rows[i], c]`` and ``span`` for text i; only where ``allowed[i, c]``."""
        for i, text in enumerate(texts):
            r = rows[i]
            for c, rx in self.regexes:
                if allowed[i, c] and not hit[r, c]:
                    m = rx.search(text)
                    if m:
                        hit[r, c] = True
                        span[r, c] = (m.start(), m.end())
        if not self.need_spacy:
            return
        vocab = self.nlp.vocab
        use_matcher = len(self.matcher) > 0
        for i, doc in enumerate(self.nlp.tokenizer.pipe(list(texts), batch_size=256)):
            r = rows[i]
            for match_id, start, end in [*self.phrases(doc), *(self.matcher(doc) if use_matcher else ())]:
                c = int(vocab.strings[match_id])
                if allowed[i, c] and not hit[r, c]:
                    hit[r, c] = True
                    span[r, c] = (doc[start:end].start_char, doc[start:end].end_char)


class StepDetector(BaseEstimator):
    """Finds scorecard steps and forbidden items in messages.

    Parameters
    ----------
    scorecard : the validated :class:`~cxlens.nlp.qa._scorecard.Scorecard`.
    encoder : an object with ``encode(texts) -> np.ndarray`` (L2-normalised rows), or a name for
        :func:`cxlens.nlp.encoders._encoders.get_encoder` (default ``"minilm"``); ``None`` = rules only.
    granularity : ``"sentence"`` (default; evidence is a sentence) or ``"message"``.
    threshold : default semantic threshold; ``None`` = the scorecard's, else a per-encoder default.
    example_units : how a multi-sentence example becomes a prototype: ``"best"`` (default) its sentence
        closest to the description, ``"whole"`` the whole text, ``"both"``.
    min_gain : with labels, semantic evidence is used for an item that has rules only when it raises
        that item's F1 on the labelled texts by at least this much (guards small label sets).
    calibrate : ``"examples"`` (default) calibrates thresholds from the scorecard's examples when
        :meth:`fit` gets no labels; ``"none"`` keeps the default threshold.

    Attributes (after :meth:`fit`): ``columns_`` (one :class:`Column` per script item),
    ``thresholds_`` (per column; 2.0 = semantic evidence off).
    """

    def __init__(self, *, scorecard: Scorecard, encoder: object | str | None = "minilm",
                 granularity: str = "sentence", threshold: float | None = None,
                 calibrate: str = "examples", example_units: str = "best", min_gain: float = 0.0) -> None:
        self.scorecard = scorecard
        self.encoder = encoder
        self.granularity = granularity
        self.threshold = threshold
        self.calibrate = calibrate
        self.example_units = example_units
        self.min_gain = min_gain

    # ---------------------------------------------------------------- setup
    def _encoder(self):
        if self.encoder is None or not isinstance(self.encoder, str):
            return self.encoder
        from cxlens.nlp.encoders import get_encoder

        return get_encoder(self.encoder)

    def text_encoder(self):
        """The encoder whose vectors this detector reads (of the sentence units of each text); ``None``: rules only."""
        return getattr(self, "encoder_", None) if hasattr(self, "columns_") else self._encoder()

    def _default_threshold(self, enc) -> float:
        if self.threshold is not None:
            return float(self.threshold)
        if self.scorecard.threshold is not None:
            return float(self.scorecard.threshold)
        name = str(getattr(enc, "name", "")).split("-")[0]
        return DEFAULT_THRESHOLDS.get(name, 0.5)

    def _setup(self) -> None:
        if self.granularity not in ("sentence", "message"):
            raise ConfigError(f"granularity must be 'sentence' or 'message', got {self.granularity!r}.")
        if self.example_units not in ("best", "whole", "both"):
            raise ConfigError(f"example_units must be 'best', 'whole' or 'both', got {self.example_units!r}.")
        if self.calibrate not in ("examples", "none"):
            raise ConfigError(f"calibrate must be 'examples' or 'none', got {self.calibrate!r}.")
        self.encoder_ = self._encoder()
        columns, items = [], []
        for script, item in self.scorecard.items():
            kind = "forbidden" if isinstance(item, ForbiddenItem) else "step"
            columns.append(Column(script.id, item.id, kind, item.speaker))
            items.append(item)
        self.columns_, self.items_ = columns, items
        self.rules_ = _Rules(columns, items)
        # prototypes: unique texts, and which of them each column uses
        semantic = self.encoder_ is not None
        best = self._best_units(items) if semantic and self.example_units != "whole" else {}
        texts: dict[str, int] = {}
        sources: dict[int, set[str]] = {}
        self.proto_cols_: list[np.ndarray] = []
        for c, (item, col) in enumerate(zip(items, columns)):
            protos: list[tuple[str, str | None]] = [(item.description, None)] if col.kind == "step" else []
            for example in item.examples:
                unit = best.get((c, example))
                if unit is None or self.example_units == "both":
                    protos.append((example, example))
                if unit is not None:
                    protos.append((unit, example))
            idx = []
            for text, source in protos:
                k = texts.setdefault(text, len(texts))
                if source is not None:
                    sources.setdefault(k, set()).add(source)
                if k not in idx:
                    idx.append(k)
            self.proto_cols_.append(np.array(idx, dtype=np.int64))
        self.proto_sources_ = sources
        self.proto_texts_ = list(texts)
        semantic = semantic and bool(self.proto_texts_)
        self.protos_ = (self.encoder_.encode(self.proto_texts_) if semantic
                        else np.zeros((len(self.proto_texts_), 1), dtype=np.float32))
        self.default_threshold_ = self._default_threshold(self.encoder_)
        fixed = [item.threshold for item in items]
        self.thresholds_ = np.array([self.default_threshold_ if t is None else t for t in fixed], dtype=np.float64)
        self.fixed_ = np.array([t is not None for t in fixed])
        if not semantic:
            self.thresholds_[:] = _NEVER

    def _best_units(self, items: Sequence) -> dict[tuple[int, str], str]:
        """For each multi-sentence example: its sentence closest to the item's description."""
        jobs: list[tuple[int, str, list[str]]] = []
        for c, item in enumerate(items):
            for example in item.examples:
                units = [unit_text(example[a:b]) for a, b in split_units(example)]
                if len(units) > 1:
                    jobs.append((c, example, units))
        if not jobs:
            return {}
        flat = [items[c].description for c, _, _ in jobs] + [u for _, _, units in jobs for u in units]
        emb = self.encoder_.encode(flat)
        out, at = {}, len(jobs)
        for n, (c, example, units) in enumerate(jobs):
            sims = emb[at:at + len(units)] @ emb[n]
            out[(c, example)] = units[int(np.argmax(sims))]
            at += len(units)
        return out

    def column_index(self, key: str) -> int:
        """Index of a column by ``script/item`` or by item id when that is unambiguous."""
        self._check()
        hits = [i for i, c in enumerate(self.columns_) if c.key == key]
        if not hits:
            hits = [i for i, c in enumerate(self.columns_) if c.item == key]
        if len(hits) != 1:
            from cxlens.errors import UnknownNameError

            raise UnknownNameError(kind="scorecard item (use script/item when ids repeat)", name=key,
                                   known=[c.key for c in self.columns_])
        return hits[0]

    def _check(self) -> None:
        if not hasattr(self, "columns_"):
            raise NotFittedError(self)

    # ---------------------------------------------------------------- similarity
    def similarities(self, texts: Sequence[str], *, speakers: Sequence[str] | None = None,
                     columns: np.ndarray | None = None) -> tuple[np.ndarray, np.ndarray]:
        """Best cosine per (text, column) and the span of the best unit. Encodes every unit once."""
        self._check()
        n = len(texts)
        cols = np.arange(len(self.columns_)) if columns is None else np.asarray(columns)
        sim = np.full((n, len(cols)), -1.0, dtype=np.float32)
        spans = np.full((n, len(cols), 2), -1, dtype=np.int64)
        if self.encoder_ is None or n == 0 or not self.proto_texts_:
            return sim, spans
        unit_spans: list[tuple[int, int]] = []
        owner: list[int] = []
        for i, text in enumerate(texts):
            gran = "message" if speakers is not None and speakers[i] != "agent" else self.granularity
            for span in split_units(text or "", granularity=gran):
                unit_spans.append(span)
                owner.append(i)
        unit_texts = [unit_text((texts[o] or "")[a:b]) for o, (a, b) in zip(owner, unit_spans)]
        emb = Texts(unit_texts).vectors(self.encoder_)
        owner_arr = np.asarray(owner)
        span_arr = np.asarray(unit_spans, dtype=np.int64)
        step = 8192
        for chunk in range(0, len(unit_texts), step):
            own = owner_arr[chunk:chunk + step]
            proto_sim = emb[chunk:chunk + step] @ self.protos_.T       # one product: units x prototypes
            col_sim = np.full((len(own), len(cols)), -1.0, dtype=np.float32)
            for j, c in enumerate(cols):
                if len(self.proto_cols_[c]):
                    col_sim[:, j] = proto_sim[:, self.proto_cols_[c]].max(1)
            starts = np.flatnonzero(np.r_[True, own[1:] != own[:-1]])
            best = np.maximum.reduceat(col_sim, starts, axis=0)          # per text in this chunk
            texts_here = own[starts]
            sim[texts_here] = np.maximum(sim[texts_here], best)
            # evidence: the first unit reaching the text's best similarity
            u_idx, j_idx = np.nonzero(col_sim >= sim[own] - 1e-6)
            key = own[u_idx] * len(cols) + j_idx
            _, first = np.unique(key, return_index=True)
            ti, tj = own[u_idx[first]], j_idx[first]
            spans[ti, tj] = span_arr[chunk + u_idx[first]]
        return sim, spans

    # ---------------------------------------------------------------- calibration
    def fit(self, X: Sequence[str] | None = None, y: pd.DataFrame | np.ndarray | None = None) -> StepDetector:
        """Set up prototypes and rules, then calibrate thresholds.

        With ``texts`` and ``labels`` (one boolean column per item: ``script/item`` or item id),
        each labelled column gets the semantic threshold that maximises the F1 of "a rule matched or
        similarity >= threshold" on those texts (ties go to the stricter threshold; the item's rules
        are always kept, as its author wrote them). A text equal to one of the item's
        examples is compared leave-one-out, so the examples may come from the same split.
        Without labels, thresholds are calibrated from the scorecard's examples (see ``calibrate``).
        """
        texts, labels = X, y
        self._setup()
        if self.encoder_ is None:
            return self
        if texts is not None and labels is not None:
            self._fit_labels(list(texts), labels)
        elif self.calibrate == "examples":
            self._fit_examples()
        return self

    def _fit_labels(self, texts: list[str], labels: pd.DataFrame | np.ndarray) -> None:
        if isinstance(labels, pd.DataFrame):
            keys = [self.column_index(str(k)) for k in labels.columns]
            y = labels.fillna(0).astype(bool).to_numpy()
        else:
            y = np.asarray(labels, dtype=bool)
            keys = list(range(y.shape[1]))
        if y.shape[0] != len(texts):
            raise ConfigError(f"fit(): {len(texts)} texts but {y.shape[0]} label rows.")
        cols = np.asarray(keys)
        sim = self._loo_similarity(texts, cols)
        hit = np.zeros((len(texts), len(self.columns_)), dtype=bool)
        self.rules_.match(texts, np.arange(len(texts)), hit, np.zeros(hit.shape + (2,), dtype=np.int64),
                          np.ones_like(hit))
        grid = np.r_[_NEVER, np.round(np.arange(0.95, -0.0001, -0.01), 2)]
        for j, c in enumerate(cols):
            if self.fixed_[c]:
                continue
            # the item's rules are always kept; they are the baseline that semantics must beat by min_gain
            base = _f1(y[:, j], hit[:, c]) if self.items_[c].has_rules else -1.0
            gain = self.min_gain if self.items_[c].has_rules else 0.0
            best = (base, _NEVER)
            for t in grid[1:]:
                f = _f1(y[:, j], hit[:, c] | (sim[:, j] >= t))
                if f > best[0] + 1e-9 and f >= base + gain - 1e-9:
                    best = (f, t)
            self.thresholds_[c] = best[1]

    def _loo_similarity(self, texts: list[str], cols: np.ndarray) -> np.ndarray:
        """Similarities where a text never matches a prototype equal to itself."""
        saved = self.proto_cols_
        excluded: dict[str, set[int]] = {}
        for k, proto in enumerate(self.proto_texts_):
            for source in self.proto_sources_.get(k, set()) | {proto}:
                excluded.setdefault(source, set()).add(k)
        sims = np.empty((len(texts), len(cols)), dtype=np.float32)
        groups: dict[frozenset, list[int]] = {}
        for i, t in enumerate(texts):
            key = frozenset(excluded.get(t, set()) | excluded.get(unit_text(t), set()))
            groups.setdefault(key, []).append(i)
        for drop, rows in groups.items():
            if drop:
                gone = np.fromiter(drop, dtype=np.int64)
                self.proto_cols_ = [pc[~np.isin(pc, gone)] for pc in saved]
            try:
                sims[rows] = self.similarities([texts[i] for i in rows], columns=cols)[0]
            finally:
                self.proto_cols_ = saved
        return sims

    def _fit_examples(self) -> None:
        """Per column: positives = its own examples (leave-one-out), negatives = other items' prototypes."""
        sim = self.protos_ @ self.protos_.T
        for c, col in enumerate(self.columns_):
            own = self.proto_cols_[c]
            if self.fixed_[c] or len(own) < 2:
                continue
            others = np.unique(np.concatenate([self.proto_cols_[k] for k, o in enumerate(self.columns_)
                                               if o.script == col.script and k != c] or [np.array([], int)]))
            others = np.setdiff1d(others, own)
            if not len(others):
                continue
            pos = np.array([sim[p, own[own != p]].max() for p in own])
            neg = sim[np.ix_(others, own)].max(1)
            grid = np.round(np.arange(0.95, 0.0, -0.01), 2)
            f1s = np.array([_f1(np.r_[np.ones(len(pos), bool), np.zeros(len(neg), bool)],
                                np.r_[pos >= t, neg >= t]) for t in grid])
            ties = grid[f1s >= f1s.max() - 1e-9]
            calibrated = float(np.median(ties))
            lo, hi = self.default_threshold_, self.default_threshold_ + 0.2
            self.thresholds_[c] = float(np.clip(calibrated, lo, hi))

    # ---------------------------------------------------------------- detection
    def detect(self, texts: Sequence[str], *, speakers: Sequence[str] | None = None,
               allowed: np.ndarray | None = None) -> Detections:
        """Evidence for every column on every text.

        speakers: per text ``"agent"`` or ``"system"`` (default all agent); a column is only
        checked on texts of its speaker. allowed: optional (n, C) mask of the columns to check
        per text (e.g. only the steps of the script that applies to the text's conversation).
        """
        self._check()
        texts = Texts.of(texts).tolist()
        n, n_cols = len(texts), len(self.columns_)
        speakers = list(speakers) if speakers is not None else ["agent"] * n
        mask = np.ones((n, n_cols), dtype=bool) if allowed is None else np.asarray(allowed, dtype=bool).copy()
        col_speaker = np.array([c.speaker for c in self.columns_])
        spk = np.asarray(speakers)
        mask &= (col_speaker[None, :] == "any") | (col_speaker[None, :] == spk[:, None])
        sim = np.full((n, n_cols), -1.0, dtype=np.float32)
        unit_span = np.full((n, n_cols, 2), -1, dtype=np.int64)
        semantic_cols = np.flatnonzero(self.thresholds_ < 1.5)
        rows = np.flatnonzero(mask[:, semantic_cols].any(1)) if len(semantic_cols) else np.array([], int)
        if len(rows):
            s, sp = self.similarities([texts[i] for i in rows], speakers=[speakers[i] for i in rows],
                                      columns=semantic_cols)
            sim[np.ix_(rows, semantic_cols)] = s
            unit_span[np.ix_(rows, semantic_cols)] = sp
        sim = np.where(mask, sim, -1.0).astype(np.float32)
        rule = np.zeros((n, n_cols), dtype=bool)
        rule_span = np.full((n, n_cols, 2), -1, dtype=np.int64)
        rule_rows = np.flatnonzero(mask.any(1))
        self.rules_.match([texts[i] for i in rule_rows], rule_rows, rule, rule_span,
                          mask[rule_rows])
        score = _calibrated(sim, self.thresholds_)
        score = np.where(rule, 1.0, score)
        score = np.where(mask, score, 0.0)
        return Detections(columns=self.columns_, similarity=sim, rule=rule, score=score,
                          rule_span=rule_span, unit_span=unit_span)

    def predict(self, X: Sequence[str]) -> pd.DataFrame:
        """Found (bool) per text and column, columns named ``script/item`` (agent speaker)."""
        det = self.detect(X)
        return pd.DataFrame(det.found, columns=[c.key for c in self.columns_])

    def predict_proba(self, X: Sequence[str]) -> np.ndarray:
        """The evidence score in [0, 1] per text and column (1 for a rule match; found where >= 0.5)."""
        return self.detect(X).score

    def annotate(self, X: Sequence[str]) -> pd.DataFrame:
        """What a :class:`~cxlens.nlp.TextPipeline` attaches: ``label`` (the ``script/item`` keys found, joined
        with ``;``) and ``count``."""
        found = self.predict(X)
        keys = np.asarray(found.columns, dtype=object)
        labels = [";".join(keys[row]) for row in found.to_numpy(dtype=bool)]
        return pd.DataFrame({"label": labels, "count": found.to_numpy(dtype=bool).sum(axis=1)})


def _calibrated(sim: np.ndarray, thresholds: np.ndarray) -> np.ndarray:
    """Monotone map of cosine to [0, 1] with each column's threshold at 0.5."""
    t = np.clip(thresholds[None, :], -0.99, 0.99)
    above = 0.5 + 0.5 * (sim - t) / (1.0 - t)
    below = 0.5 * (sim + 1.0) / (t + 1.0)
    out = np.where(sim >= t, above, below)
    out = np.where(thresholds[None, :] >= 1.5, np.minimum(out, 0.49), out)
    return np.clip(out, 0.0, 1.0)


def _f1(y: np.ndarray, p: np.ndarray) -> float:
    tp = float(np.sum(y & p))
    denom = 2 * tp + float(np.sum(~y & p)) + float(np.sum(y & ~p))
    return 2 * tp / denom if denom else 1.0

