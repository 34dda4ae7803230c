"""Step detection: which scorecard steps (and forbidden items) each agent message shows.

Two kinds of evidence are combined per (message, item):

* **rules** -- ``phrases`` (spaCy ``PhraseMatcher`` on lower-cased tokens of a blank English
  pipeline), ``regexes`` (Python ``re``, case-insensitive) and ``patterns`` (spaCy ``Matcher``
  token patterns). A rule match is certain evidence: score 1.
* **semantic similarity** -- every message is cut into sentences (``granularity="sentence"``) and
  each sentence is encoded once; one matrix product compares all of them with every prototype
  (an item's description and examples). A message's similarity to an item is the best
  (sentence, prototype) cosine. Forbidden items use semantics only when they have examples.
* **dialogue acts** (:mod:`cxlens.nlp.qa._acts`) -- a step whose description names an act and nothing else
  ("The agent gives the customer a link.", "... asks the customer a question.", "... apologises.") is found
  by that act (score 1, ``fired = "act"``); an act named beside a topic ("asks the customer to restart their
  device") gates semantics: only sentences showing the act can match. ``acts="off"`` turns both off.
* **competition** -- a sentence counts for a step only when no other step of its script is closer to it by
  more than ``compete`` (cosine): "which device and OS are you on?" is not "restart your device".

Each item has a threshold: its own ``threshold`` field, else one *calibrated* by :meth:`StepDetector.fit`
(from labelled messages when given, else from the scorecard's own examples, leave-one-out), else the
scorecard's / detector's default. Scores are rescaled so that 0.5 is the decision point for every
item: ``score >= 0.5`` means *found*, whatever the raw cosine scale of the encoder.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence

import numpy as np
import pandas as pd

from sklearn.base import BaseEstimator

from cxlens.errors import ConfigError, NotFittedError
from cxlens.nlp import Texts
from cxlens.nlp.qa._acts import ACTS, act_index, described_acts, may_show, sentence_acts
from cxlens.nlp.qa._calibrate import NEVER, fit_example_thresholds, fit_labelled_thresholds
from cxlens.nlp.qa._scorecard import ForbiddenItem, Scorecard
from cxlens.nlp.qa._rules import Rules
from cxlens.nlp.qa._units import Column, Detections, split_units, unit_text

__all__ = ["Column", "Detections", "StepDetector", "split_units"]

log = logging.getLogger(__name__)

#: Default semantic thresholds (cosine) per encoder family, used when nothing else sets one.
DEFAULT_THRESHOLDS = {"minilm": 0.55, "tfidf": 0.35}
#: The ``script`` of the columns of a scorecard's yes/no questions (keys ``questions/<id>``).
QUESTIONS = "questions"
_NEVER = NEVER


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
    acts : ``"auto"`` (default) checks the dialogue act a step's description names
        (:mod:`cxlens.nlp.qa._acts`): an act that is the whole criterion ("gives a link", "asks a
        question", "apologises") is evidence on its own, any other named act ("asks the customer to ...")
        gates semantic evidence to the sentences that show it; ``"off"``: similarity and rules only.

    Attributes (after :meth:`fit`): ``columns_`` (one :class:`Column` per script item),
    ``thresholds_`` (per column; 2.0 = semantic evidence off), ``act_whole_`` / ``act_gate_`` (per column:
    the act index that is the whole criterion / that gates semantics; -1 = none).
    """

    def __init__(self, *, scorecard: Scorecard, encoder: object | str | None = "minilm",
                 granularity: str = "sentence", threshold: float | None = None,
                 calibrate: str = "examples", example_units: str = "best", min_gain: float = 0.0,
                 acts: str = "auto", compete: float | None = 0.1) -> None:
        self.scorecard = scorecard
        self.encoder = encoder
        self.granularity = granularity
        self.threshold = threshold
        self.calibrate = calibrate
        self.example_units = example_units
        self.min_gain = min_gain
        self.acts = acts
        self.compete = compete

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
        if self.acts not in ("auto", "off"):
            raise ConfigError(f"acts must be 'auto' or 'off', got {self.acts!r}.")
        self.encoder_ = self._encoder()
        columns, items = [], []
        for script, item in self.scorecard.items():
            kind = "forbidden" if isinstance(item, ForbiddenItem) else "step"
            columns.append(Column(script.id, item.id, kind, item.speaker))
            items.append(item)
        for question in getattr(self.scorecard, "questions", ()):  # yes/no questions: checked conversation-wide
            columns.append(Column(QUESTIONS, question.id, "question", question.speaker))
            items.append(question)
        self.columns_, self.items_ = columns, items
        self.rules_ = Rules(columns, items)
        # prototypes: unique texts, and which of them each column uses
        semantic = self.encoder_ is not None
        best = self._best_units(items) if semantic and self.example_units != "whole" else {}
        texts: dict[str, int] = {}
        sources: dict[int, set[str]] = {}
        self.proto_cols_: list[np.ndarray] = []
        self.neg_cols_: list[np.ndarray] = []
        for c, (item, col) in enumerate(zip(items, columns)):
            protos: list[tuple[str, str | None]] = [(item.description, None)] if col.kind != "forbidden" else []
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
            counter = []   # counter-examples: a sentence closer to one of them than to the item does not match it
            for example in getattr(item, "counter_examples", ()):
                k = texts.setdefault(best.get((c, example), example), len(texts))
                sources.setdefault(k, set()).add(example)
                counter.append(k)
            self.neg_cols_.append(np.array(sorted(set(counter)), dtype=np.int64))
        self.proto_sources_ = sources
        self.proto_texts_ = list(texts)
        semantic = semantic and bool(self.proto_texts_)
        self.protos_ = (self.encoder_.encode(self.proto_texts_) if semantic
                        else np.zeros((len(self.proto_texts_), 1), dtype=np.float32))
        self.default_threshold_ = self._default_threshold(self.encoder_)
        fixed = [item.threshold for item in items]
        self.thresholds_ = np.array([self.default_threshold_ if t is None else t for t in fixed], dtype=np.float64)
        self.fixed_ = np.array([t is not None for t in fixed])
        self.act_whole_ = np.full(len(items), -1, dtype=np.int64)
        self.act_gate_ = np.full(len(items), -1, dtype=np.int64)
        for c, (item, col) in enumerate(zip(items, columns)):
            named, whole = described_acts(item.description) if self.acts == "auto" and col.kind == "step" else ((), False)
            if whole:
                self.act_whole_[c] = act_index(named[0])
                if item.threshold is None:  # the act is the criterion: similarity to "asks a question" is noise
                    self.thresholds_[c] = _NEVER
            elif named:
                self.act_gate_[c] = act_index(named[0])
        if not semantic:
            self.thresholds_[:] = _NEVER

    def _best_units(self, items: Sequence) -> dict[tuple[int, str], str]:
        """For each multi-sentence example: its sentence closest to the item's description."""
        jobs: list[tuple[int, str, list[str]]] = []
        for c, item in enumerate(items):
            for example in (*item.examples, *getattr(item, "counter_examples", ())):
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
                     columns: np.ndarray | None = None, gate_from: float = -1.0,
                     units: dict[str, list[tuple[int, int]]] | None = None) -> tuple[np.ndarray, np.ndarray]:
        """Best cosine per (text, column) and the span of the best unit. Encodes every unit once.

        ``gate_from``: act gates are checked on the sentences at or above this cosine for some gated column
        only (:meth:`detect` passes the lowest threshold: a sentence below it cannot be found anyway);
        ``units``: a cache of each text's sentence spans, filled here and read by :meth:`act_hits`."""
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
            gran = "message" if speakers is not None and speakers[i] not in ("agent", "customer") else self.granularity
            if gran == "sentence" and units is not None:
                spans_i = units.get(text or "")
                if spans_i is None:
                    spans_i = units[text or ""] = split_units(text or "")
            else:
                spans_i = split_units(text or "", granularity=gran)
            for span in spans_i:
                unit_spans.append(span)
                owner.append(i)
        unit_texts = [unit_text((texts[o] or "")[a:b]) for o, (a, b) in zip(owner, unit_spans)]
        emb = Texts(unit_texts).vectors(self.encoder_)
        owner_arr = np.asarray(owner)
        span_arr = np.asarray(unit_spans, dtype=np.int64)
        rivals = self._rivals()
        need = np.union1d(cols, rivals) if rivals is not None else cols   # columns whose similarity is computed
        at = {int(c): k for k, c in enumerate(need)}
        gates = self.act_gate_[need]
        gate_acts = [ACTS[g] for g in set(gates[gates >= 0])]
        pick = np.array([at[int(c)] for c in cols], dtype=np.int64)
        step = 8192
        for chunk in range(0, len(unit_texts), step):
            own = owner_arr[chunk:chunk + step]
            proto_sim = emb[chunk:chunk + step] @ self.protos_.T       # one product: units x prototypes
            need_sim = np.full((len(own), len(need)), -1.0, dtype=np.float32)
            for k, c in enumerate(need):
                if len(self.proto_cols_[c]):
                    need_sim[:, k] = proto_sim[:, self.proto_cols_[c]].max(1)
            if gate_acts:  # only sentences showing a step's act may match it (acts checked where it can matter)
                check = np.flatnonzero((need_sim[:, gates >= 0] >= gate_from).any(1))
                unit_acts = np.ones((len(own), len(ACTS)), dtype=bool)
                unit_acts[check] = sentence_acts([unit_texts[chunk + u] for u in check], acts=gate_acts)
                for k in np.flatnonzero(gates >= 0):
                    need_sim[~unit_acts[:, gates[k]], k] = -1.0
            for k, c in enumerate(need):
                if len(self.neg_cols_[c]):
                    need_sim[proto_sim[:, self.neg_cols_[c]].max(1) >= need_sim[:, k], k] = -1.0
            col_sim = need_sim[:, pick]
            if rivals is not None:  # a sentence counts for a step only when no other step of its script is clearly closer
                for script, members in self._rival_groups(rivals).items():
                    best = need_sim[:, [at[c] for c in members]].max(1)
                    for j, c in enumerate(cols):
                        if int(c) in members:
                            col_sim[col_sim[:, j] < best - self.compete, j] = -1.0
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

    def _gate_floor(self, cols: np.ndarray) -> float:
        gated = cols[self.act_gate_[cols] >= 0]
        return float(self.thresholds_[gated].min()) if len(gated) else -1.0

    def _rivals(self) -> np.ndarray | None:
        """The steps that compete for a sentence: semantic steps whose criterion is not an act alone."""
        if self.compete is None:
            return None
        out = [c for c, col in enumerate(self.columns_) if col.kind == "step" and self.act_whole_[c] < 0
               and len(self.proto_cols_[c]) and not self.fixed_[c]]
        return np.asarray(out, dtype=np.int64) if out else None

    def _rival_groups(self, rivals: np.ndarray) -> dict[str, set[int]]:
        groups: dict[str, set[int]] = {}
        for c in rivals:
            groups.setdefault(self.columns_[c].script, set()).add(int(c))
        return groups

    # ---------------------------------------------------------------- calibration
    def fit(self, X: Sequence[str] | None = None, y: pd.DataFrame | np.ndarray | None = None) -> StepDetector:
        """Set up prototypes and rules, then calibrate thresholds.

        With ``texts`` and ``labels`` (one boolean column per item: ``script/item`` or item id),
        each labelled column gets the semantic threshold that maximises the F1 of "a rule or act matched or
        similarity >= threshold" on those texts (of tied thresholds, the one calibrated from the examples when
        it is among them, else the middle; the item's rules are always kept, as its author wrote them; the
        labels decide whether a step's act gate helps). A text equal to one of the item's
        examples is compared leave-one-out, so the examples may come from the same split.
        Without labels, thresholds are calibrated from the scorecard's examples (see ``calibrate``).
        """
        texts, labels = X, y
        self._setup()
        if self.encoder_ is None:
            return self
        if texts is not None and labels is not None:
            if self.calibrate == "examples":
                fit_example_thresholds(self)   # the prior: kept where the labels cannot tell better
            fit_labelled_thresholds(self, list(texts), labels)
        elif self.calibrate == "examples":
            fit_example_thresholds(self)
        return self

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
        units: dict[str, list[tuple[int, int]]] = {}   # sentence spans per text, cut once per call
        semantic_cols = np.flatnonzero(self.thresholds_ < 1.5)
        rows = np.flatnonzero(mask[:, semantic_cols].any(1)) if len(semantic_cols) else np.array([], int)
        if len(rows):
            s, sp = self.similarities([texts[i] for i in rows], speakers=[speakers[i] for i in rows],
                                      columns=semantic_cols, gate_from=self._gate_floor(semantic_cols), units=units)
            sim[np.ix_(rows, semantic_cols)] = s
            unit_span[np.ix_(rows, semantic_cols)] = sp
        sim = np.where(mask, sim, -1.0).astype(np.float32)
        rule = np.zeros((n, n_cols), dtype=bool)
        rule_span = np.full((n, n_cols, 2), -1, dtype=np.int64)
        rule_rows = np.flatnonzero(mask.any(1))
        self.rules_.match([texts[i] for i in rule_rows], rule_rows, rule, rule_span,
                          mask[rule_rows])
        act, act_span = self.act_hits(texts, mask, units=units)
        score = _calibrated(sim, self.thresholds_)
        score = np.where(rule | act, 1.0, score)
        score = np.where(mask, score, 0.0)
        return Detections(columns=self.columns_, similarity=sim, rule=rule, score=score,
                          rule_span=rule_span, unit_span=unit_span, act=act, act_span=act_span)

    def act_hits(self, texts: Sequence[str], mask: np.ndarray, *,
                 units: dict[str, list[tuple[int, int]]] | None = None) -> tuple[np.ndarray, np.ndarray]:
        """Where a column's whole-criterion act shows in a text (``mask``: the (text, column) pairs to check),
        and the span of the first sentence showing it."""
        n, n_cols = mask.shape
        hit = np.zeros((n, n_cols), dtype=bool)
        span = np.full((n, n_cols, 2), -1, dtype=np.int64)
        whole = np.flatnonzero(getattr(self, "act_whole_", np.array([], int)) >= 0)
        if not len(whole):
            return hit, span
        needed = [ACTS[g] for g in set(self.act_whole_[whole])]
        rows, spans, owner = [], [], []
        for i in np.flatnonzero(mask[:, whole].any(1)):
            text = texts[i] or ""
            if may_show(text, needed):
                cut = units.get(text) if units is not None else None
                cut = split_units(text) if cut is None else cut
                rows.append(i)
                spans += cut
                owner += [len(rows) - 1] * len(cut)
        if not rows:
            return hit, span
        acts = sentence_acts([unit_text((texts[rows[o]] or "")[a:b]) for o, (a, b) in zip(owner, spans)], acts=needed)
        owner_arr = np.asarray(owner)
        for c in whole:
            shown = np.flatnonzero(acts[:, self.act_whole_[c]] & mask[np.asarray(rows)[owner_arr], c])
            first = shown[np.unique(owner_arr[shown], return_index=True)[1]]   # each text's first sentence showing it
            for u in first:
                hit[rows[owner_arr[u]], c] = True
                span[rows[owner_arr[u]], c] = spans[u]
        return hit, span

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
