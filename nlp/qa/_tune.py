"""Calibration from a few labels (``cxlens scorecard tune``) and checks of a scorecard's steps against each other
(``cxlens scorecard check``).

* :func:`read_labelled` reads a labelled file: a text column and one 0/1 column per step id.
* :func:`tuning_split` picks the replies to tune on: at most ``per_step`` positives of every step (and at most
  ``per_step`` replies with no step), seeded; the rest measure the result.
* :func:`tune_scorecard` fits each step's threshold on the tuning replies (:meth:`StepDetector.fit` with
  labels) and reports precision, recall and F1 per step on both parts; :func:`tuned_scorecard` writes the
  thresholds into the scorecard (they are cosines of that encoder: tune again for another one).
* :func:`step_overlaps` lists the steps a scorecard cannot tell apart well: an example closer to another
  step's description and examples than to its own step's, or two steps whose examples nearly coincide.
"""

from __future__ import annotations

import dataclasses
import logging
import re
from pathlib import Path

import numpy as np
import pandas as pd

from cxlens.errors import ConfigError, DataError
from cxlens.nlp.qa._calibrate import loo_similarity
from cxlens.nlp.qa._detect import StepDetector
from cxlens.nlp.qa._phrases import criterion_words, learned_phrases
from cxlens.nlp.qa._scorecard import Scorecard, Script

__all__ = ["read_labelled", "step_overlaps", "tune_scorecard", "tuned_scorecard", "tuning_split", "with_examples"]

log = logging.getLogger(__name__)
_OFF = 1.0  # a threshold written to a file when semantic evidence is off for a step (no reply reaches cosine 1)


def _slug(name: object) -> str:
    """Column names compare case- and punctuation-blind: ``Provide URL`` names the step ``provide_url``."""
    return re.sub(r"[^a-z0-9/]+", "_", str(name).lower()).strip("_")


def read_labelled(path: str | Path, card: Scorecard, *, text_column: str = "text") -> tuple[list[str], pd.DataFrame]:
    """Texts and a boolean frame with one column per labelled step (columns named by step id or ``script/step``,
    case- and punctuation-blind: ``Provide URL`` labels ``provide_url``). Steps without a column are left out; a file with none of them is an error."""
    from cxlens.io import read_frame

    frame, unreadable = read_frame(path)
    if len(unreadable):
        log.warning("%s: %d unreadable record(s) left out of the labelled replies", path, len(unreadable))
    by_lower = {_slug(c): c for c in frame.columns}
    if _slug(text_column) not in by_lower:
        raise DataError(f"{path}: no text column {text_column!r} (columns: {', '.join(map(str, frame.columns))}); "
                        "pass --text-column.")
    keys = {}
    for script, item in card.items():
        for name in (f"{script.id}/{item.id}", item.id):
            if _slug(name) in by_lower and by_lower[_slug(name)] not in keys:
                keys[by_lower[_slug(name)]] = item.id if len(card.scripts) == 1 else f"{script.id}/{item.id}"
                break
    if not keys:
        steps = ", ".join(item.id for _, item in card.items())
        raise DataError(f"{path}: no column is named after a step of {card.name} ({steps}); label each step in a "
                        "column named by its id (1 = the reply shows it, 0 or empty = not).")
    labels = frame[list(keys)].rename(columns=keys)
    labels = labels.apply(pd.to_numeric, errors="coerce").fillna(0).astype(bool).reset_index(drop=True)
    texts = frame[by_lower[_slug(text_column)]].fillna("").astype(str).tolist()
    return texts, labels


def tuning_split(labels: pd.DataFrame, *, per_step: int = 20, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """Row indices to tune on and the rest: at most ``per_step`` positives of each step and never more than half
    of them (so every step is measured on the rest), and at most ``per_step`` replies with no step."""
    y = labels.to_numpy(dtype=bool)
    cap = np.minimum(per_step, y.sum(0) // 2 + (y.sum(0) == 1))
    counts = np.zeros(y.shape[1], dtype=int)
    negatives = 0
    tune = []
    for i in np.random.default_rng(seed).permutation(len(y)):
        pos = y[i]
        if not pos.any():
            if negatives < per_step:
                tune.append(i)
                negatives += 1
        elif (counts[pos] < cap[pos]).all():
            tune.append(i)
            counts[pos] += 1
    tune = np.sort(np.asarray(tune, dtype=np.int64))
    return tune, np.setdiff1d(np.arange(len(y)), tune)


def _scores(y: np.ndarray, p: np.ndarray) -> dict[str, float]:
    tp, fp, fn = int((y & p).sum()), int((~y & p).sum()), int((y & ~p).sum())
    precision = tp / (tp + fp) if tp + fp else float("nan")
    recall = tp / (tp + fn) if tp + fn else float("nan")
    f1 = 2 * tp / (2 * tp + fp + fn) if tp + fp + fn else float("nan")
    return {"positives": tp + fn, "precision": precision, "recall": recall, "f1": f1}


def with_examples(card: Scorecard, examples: dict[str, list[str]], *, field: str = "examples") -> Scorecard:
    """The scorecard with more example replies per step (``examples``: step id or ``script/step`` -> texts;
    ``field="counter_examples"``: replies that do not show the step)."""
    def grow(item, script):
        extra = examples.get(f"{script.id}/{item.id}", examples.get(item.id, []))
        if not extra:
            return item
        return dataclasses.replace(item, **{field: tuple(dict.fromkeys([*getattr(item, field), *extra]))})
    scripts = tuple(dataclasses.replace(sc, steps=tuple(grow(s, sc) for s in sc.steps)) for sc in card.scripts)
    return dataclasses.replace(card, scripts=scripts)


def tune_scorecard(card: Scorecard, texts: list[str], labels: pd.DataFrame, *, encoder: object | str | None = "minilm-l2",
                   per_step: int = 20, seed: int = 0, add_examples: bool = True, learn_phrases: bool = False,
                   **detector_params) -> tuple[StepDetector, pd.DataFrame]:
    """Fit each labelled step's threshold on a tuning split; report per step on the tuning and held-out replies.

    ``add_examples``: the tuning split's replies that show one step only become examples of that step too, and
    the replies without a step that it found anyway become its ``counter_examples`` (all compared leave-one-out
    while the thresholds are fitted, so a reply never vouches for itself). ``learn_phrases``: word sequences
    that mark a step's tuning replies and almost no other (:func:`~cxlens.nlp.qa._phrases.learned_phrases`)
    become phrases of that step (rule evidence, written into the tuned scorecard).

    Returns the fitted detector and a frame with one row per step: ``tuned_on`` (positives used), ``threshold``
    (cosine; ``None`` = semantic evidence off), and ``precision``, ``recall``, ``f1`` on the held-out replies
    (``heldout_positives``) and on the tuning replies (``tune_f1``).
    """
    if len(texts) != len(labels):
        raise ConfigError(f"tune: {len(texts)} texts but {len(labels)} label rows.")
    tune, rest = tuning_split(labels, per_step=per_step, seed=seed)
    grounds = _criterion_words(card, labels.columns)
    if add_examples:
        y_tune = labels.iloc[tune].to_numpy(dtype=bool)
        single = y_tune.sum(1) == 1   # a reply showing two steps would teach each step the other one
        card = with_examples(card, {str(k): [texts[tune[i]] for i in np.flatnonzero(y_tune[:, j] & single)]
                                    for j, k in enumerate(labels.columns)})
    tune_texts, tune_labels = [texts[i] for i in tune], labels.iloc[tune].reset_index(drop=True)
    learned = learned_phrases(tune_texts, tune_labels, grounds=grounds) if learn_phrases else {}
    if learned:
        card = with_examples(card, learned, field="phrases")
    detector = StepDetector(scorecard=card, encoder=encoder, **detector_params).fit(tune_texts, tune_labels)
    if add_examples:
        counter = _hard_negatives(detector, tune_texts, tune_labels, most=per_step)
        if any(counter.values()):
            card = with_examples(card, counter, field="counter_examples")
            detector = StepDetector(scorecard=card, encoder=encoder, **detector_params).fit(tune_texts, tune_labels)
    keys = [detector.column_index(str(k)) for k in labels.columns]
    y = labels.to_numpy(dtype=bool)
    found = detector.detect(texts).found[:, keys]
    rows = []
    for j, name in enumerate(labels.columns):
        c = keys[j]
        held = _scores(y[rest, j], found[rest, j])
        threshold = float(detector.thresholds_[c])
        rows.append({"step": str(name), "tuned_on": int(y[tune, j].sum()),
                     "threshold": None if threshold > 1.0 else round(threshold, 3),
                     "precision": held["precision"], "recall": held["recall"], "f1": held["f1"],
                     "heldout_positives": held["positives"],
                     "learned_phrases": "; ".join(learned.get(str(name), [])),
                     "tune_f1": _scores(y[tune, j], found[tune, j])["f1"]})
    report = pd.DataFrame(rows)
    log.info("tuned %d steps on %d replies, measured on %d", len(rows), len(tune), len(rest))
    return detector, report


def _criterion_words(card: Scorecard, steps) -> dict[str, set[str]]:
    """Per labelled step: the words of its id, description and examples as the user wrote them."""
    items = {}
    for script in card.scripts:
        for item in (*script.steps, *script.forbidden):
            items[item.id] = items[f"{script.id}/{item.id}"] = item
    out = {}
    for step in steps:
        item = items.get(str(step))
        if item is not None:
            out[str(step)] = criterion_words(item.id, item.description, *item.examples)
    return out


def _hard_negatives(detector: StepDetector, texts: list[str], labels: pd.DataFrame, *, most: int) -> dict[str, list[str]]:
    """Per step: the labelled replies without it that its semantic evidence found (nearest first, at most ``most``)."""
    cols = np.array([detector.column_index(str(k)) for k in labels.columns])
    sim = loo_similarity(detector, texts, cols)
    y = labels.to_numpy(dtype=bool)
    out = {}
    for j, k in enumerate(labels.columns):
        wrong = np.flatnonzero(~y[:, j] & (sim[:, j] >= detector.thresholds_[cols[j]]))
        out[str(k)] = [texts[i] for i in wrong[np.argsort(-sim[wrong, j])][:most]]
    return out


def tuned_scorecard(detector: StepDetector) -> Scorecard:
    """The detector's scorecard with every step's fitted threshold written in (``threshold: 1.0`` = semantics off)."""
    detector._check()
    card: Scorecard = detector.scorecard
    by_key = {c.key: float(t) for c, t in zip(detector.columns_, detector.thresholds_)}
    scripts = []
    for script in card.scripts:
        def fixed(item, script=script):
            t = by_key.get(f"{script.id}/{item.id}")
            if t is None or item.threshold is not None:
                return item
            return dataclasses.replace(item, threshold=_OFF if t > 1.0 else round(t, 3))
        scripts.append(Script(id=script.id, description=script.description, applies_to=script.applies_to,
                              steps=tuple(fixed(s) for s in script.steps),
                              forbidden=tuple(fixed(f) for f in script.forbidden)))
    return dataclasses.replace(card, scripts=tuple(scripts))


def step_overlaps(detector: StepDetector, *, margin: float = 0.0, near: float = 0.9) -> list[str]:
    """Warnings about steps of one script that the detector cannot tell apart well.

    * an example that another step would find (similarity at or above that step's threshold) and that is closer
      to that step's description and examples than to its own step's, by more than ``margin``;
    * two steps with a pair of examples (or descriptions) at cosine >= ``near``.

    Steps found by their act alone ("gives a link") are left out: their examples are not compared.
    """
    detector._check()
    if detector.encoder_ is None or not detector.proto_texts_:
        return []
    sim = detector.protos_ @ detector.protos_.T
    cols = detector.columns_
    semantic = [c for c, col in enumerate(cols) if col.kind == "step" and detector.act_whole_[c] < 0
                and len(detector.proto_cols_[c])]
    warnings = []
    for c in semantic:
        own = detector.proto_cols_[c]
        rivals = [k for k in semantic if k != c and cols[k].script == cols[c].script]
        for p in own:
            rest = own[own != p]
            if p not in detector.proto_sources_ or not len(rest) or not rivals:
                continue
            mine = float(sim[p, rest].max())
            theirs = [float(sim[p, np.setdiff1d(detector.proto_cols_[k], own)].max(initial=-1.0)) for k in rivals]
            k = int(np.argmax(theirs))
            if theirs[k] > mine + margin and theirs[k] >= detector.thresholds_[rivals[k]]:
                warnings.append(f"{cols[c].script}: step {cols[c].item!r}: example {detector.proto_texts_[p]!r:.80} "
                                f"is closer to step {cols[rivals[k]].item!r} ({theirs[k]:.2f}) than to its own step "
                                f"({mine:.2f}); reword it or add examples that say what sets the two apart")
        for k in rivals:
            if k < c:
                continue
            theirs = np.setdiff1d(detector.proto_cols_[k], own)
            if not len(theirs):
                continue
            pair = sim[np.ix_(own, theirs)]
            a, b = np.unravel_index(int(np.argmax(pair)), pair.shape)
            if pair[a, b] >= near:
                warnings.append(f"{cols[c].script}: steps {cols[c].item!r} and {cols[k].item!r} are nearly the same "
                                f"({pair[a, b]:.2f}): {detector.proto_texts_[own[a]]!r:.80} vs "
                                f"{detector.proto_texts_[theirs[b]]!r:.80}")
    return warnings
