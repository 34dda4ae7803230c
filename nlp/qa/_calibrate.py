"""Threshold calibration of a :class:`~cxlens.nlp.qa.StepDetector`: from labelled texts, from the scorecard's own
examples, and the leave-one-out similarities both use. Functions of a set-up detector, called by
``StepDetector.fit`` and by :mod:`cxlens.nlp.qa._tune`."""

from __future__ import annotations

import numpy as np
import pandas as pd

from cxlens.errors import ConfigError
from cxlens.nlp.qa._units import unit_text

__all__ = ["NEVER", "f1", "fit_example_thresholds", "fit_labelled_thresholds", "loo_similarity"]

NEVER = 2.0  # a threshold no cosine reaches: semantic evidence switched off


def fit_labelled_thresholds(detector, texts: list[str], labels: pd.DataFrame | np.ndarray) -> None:
    """``StepDetector.fit`` with labels: each labelled column's threshold (and act gate) from the labels."""
    if isinstance(labels, pd.DataFrame):
        keys = [detector.column_index(str(k)) for k in labels.columns]
        y = labels.fillna(0).astype(bool).to_numpy()
    else:
        y = np.asarray(labels, dtype=bool)
        keys = list(range(y.shape[1]))
    if y.shape[0] != len(texts):
        raise ConfigError(f"fit(): {len(texts)} texts but {y.shape[0]} label rows.")
    cols = np.asarray(keys)
    sim = loo_similarity(detector, texts, cols)
    gated = detector.act_gate_[cols] >= 0
    if gated.any():  # the labels decide whether a step's act gate helps: compare with the gate off
        saved_gate = detector.act_gate_.copy()
        detector.act_gate_[cols[gated]] = -1
        ungated = loo_similarity(detector, texts, cols)
        detector.act_gate_ = saved_gate
    hit = np.zeros((len(texts), len(detector.columns_)), dtype=bool)
    detector.rules_.match(texts, np.arange(len(texts)), hit, np.zeros(hit.shape + (2,), dtype=np.int64),
                      np.ones_like(hit))
    hit |= detector.act_hits(texts, np.ones_like(hit))[0]
    grid = np.r_[NEVER, np.round(np.arange(0.95, -0.0001, -0.01), 2)]
    for j, c in enumerate(cols):
        if detector.fixed_[c]:
            continue
        # the item's rules are always kept; they are the baseline that semantics must beat by min_gain
        certain = detector.items_[c].has_rules or detector.act_whole_[c] >= 0
        base = f1(y[:, j], hit[:, c]) if certain else -1.0
        gain = detector.min_gain if certain else 0.0
        f1s = np.array([f1(y[:, j], hit[:, c] | (sim[:, j] >= t)) for t in grid[1:]])
        if gated[j]:
            loose = np.array([f1(y[:, j], hit[:, c] | (ungated[:, j] >= t)) for t in grid[1:]])
            if loose.max() > f1s.max() + 1e-9:
                f1s, detector.act_gate_[c] = loose, -1
        if not len(f1s) or f1s.max() <= base + 1e-9 or f1s.max() < base + gain - 1e-9:
            detector.thresholds_[c] = NEVER
            continue
        ties = grid[1:][f1s >= f1s.max() - 1e-9]
        # a few labels leave a range of equally good thresholds: keep the one calibrated from the examples
        # when it is in that range, else take the middle of the range (not its edge, fitted to a few replies)
        prior = detector.thresholds_[c]
        detector.thresholds_[c] = prior if ties.min() - 1e-9 <= prior <= ties.max() + 1e-9 else float(np.median(ties))

def loo_similarity(detector, texts: list[str], cols: np.ndarray) -> np.ndarray:
    """Similarities where a text never matches a prototype equal to itself."""
    saved, saved_neg = detector.proto_cols_, detector.neg_cols_
    excluded: dict[str, set[int]] = {}
    for k, proto in enumerate(detector.proto_texts_):
        for source in detector.proto_sources_.get(k, set()) | {proto}:
            excluded.setdefault(source, set()).add(k)
    sims = np.empty((len(texts), len(cols)), dtype=np.float32)
    groups: dict[frozenset, list[int]] = {}
    for i, t in enumerate(texts):
        key = frozenset(excluded.get(t, set()) | excluded.get(unit_text(t), set()))
        groups.setdefault(key, []).append(i)
    for drop, rows in groups.items():
        if drop:
            gone = np.fromiter(drop, dtype=np.int64)
            detector.proto_cols_ = [pc[~np.isin(pc, gone)] for pc in saved]
            detector.neg_cols_ = [nc[~np.isin(nc, gone)] for nc in saved_neg]
        try:
            sims[rows] = detector.similarities([texts[i] for i in rows], columns=cols)[0]
        finally:
            detector.proto_cols_, detector.neg_cols_ = saved, saved_neg
    return sims

def fit_example_thresholds(detector) -> None:
    """Per column: positives = its own examples (leave-one-out), negatives = the other items' examples.

    Replies are compared with replies: descriptions ("The agent asks the customer to ...") resemble each
    other more than the replies they describe, so they are not used as negatives (when no other item
    has examples, every other prototype is)."""
    sim = detector.protos_ @ detector.protos_.T
    from_example = np.zeros(len(detector.proto_texts_), dtype=bool)
    from_example[list(detector.proto_sources_)] = True
    for c, col in enumerate(detector.columns_):
        own = detector.proto_cols_[c]
        if detector.fixed_[c] or len(own) < 2 or detector.act_whole_[c] >= 0:
            continue
        others = np.unique(np.concatenate([detector.proto_cols_[k] for k, o in enumerate(detector.columns_)
                                           if o.script == col.script and k != c] or [np.array([], int)]))
        others = np.setdiff1d(others, own)
        if from_example[others].any():
            others = others[from_example[others]]
        if not len(others):
            continue
        pos = np.array([sim[p, own[own != p]].max() for p in own if from_example[p]] or
                       [sim[p, own[own != p]].max() for p in own])
        neg = sim[np.ix_(others, own)].max(1)
        grid = np.round(np.arange(0.95, 0.0, -0.01), 2)
        f1s = np.array([f1(np.r_[np.ones(len(pos), bool), np.zeros(len(neg), bool)],
                            np.r_[pos >= t, neg >= t]) for t in grid])
        ties = grid[f1s >= f1s.max() - 1e-9]
        calibrated = float(np.median(ties))
        lo, hi = detector.default_threshold_, detector.default_threshold_ + 0.2
        detector.thresholds_[c] = float(np.clip(calibrated, lo, hi))


def f1(y: np.ndarray, p: np.ndarray) -> float:
    tp = float(np.sum(y & p))
    denom = 2 * tp + float(np.sum(~y & p)) + float(np.sum(y & ~p))
    return 2 * tp / denom if denom else 1.0

