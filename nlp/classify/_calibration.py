"""Confidence calibration of the text classifiers: temperature scaling, and the folds whose out-of-fold logits
fit it when the training texts come from several sources (``calibration_groups``)."""

from __future__ import annotations

import logging

import numpy as np
import pandas as pd

__all__ = ["GroupFolds", "fit_temperature", "group_keys", "sigmoid"]

log = logging.getLogger(__name__)


def sigmoid(z: np.ndarray) -> np.ndarray:
    return 1.0 / (1.0 + np.exp(-np.clip(z, -50, 50)))


def fit_temperature(logits: np.ndarray, y: np.ndarray, *, multi_label: bool = False) -> float:
    """The temperature T > 0 minimising the negative log-likelihood of ``softmax(logits / T)``.

    ``y`` is the class index per row (single-label) or a 0/1 indicator matrix (multi-label, sigmoid).
    """
    from scipy.optimize import minimize_scalar

    logits = np.asarray(logits, dtype=np.float64)

    def nll(log_t: float) -> float:
        z = logits / np.exp(log_t)
        if multi_label:
            p = np.clip(sigmoid(z), 1e-12, 1 - 1e-12)
            return float(-np.mean(y * np.log(p) + (1 - y) * np.log(1 - p)))
        z = z - z.max(axis=1, keepdims=True)
        logp = z - np.log(np.exp(z).sum(axis=1, keepdims=True))
        return float(-np.mean(logp[np.arange(len(y)), y]))

    res = minimize_scalar(nll, bounds=(np.log(0.05), np.log(20.0)), method="bounded")
    return float(np.exp(res.x))


def group_keys(groups) -> np.ndarray:
    """One string per row: the group's value as text, ``""`` for a missing one (None, NaN, NA), and whole
    numbers without their ``.0`` (a column read as floats names the same groups as one read as integers)."""
    out = []
    for v in groups:
        if v is None or (not isinstance(v, str) and pd.isna(v)):
            out.append("")
        elif isinstance(v, (float, np.floating)) and float(v).is_integer():
            out.append(str(int(v)))
        else:
            out.append(str(v))
    return np.asarray(out, dtype=object)


class GroupFolds:
    """Folds that hold out whole groups (a ``split`` like scikit-learn's splitters), for ``calibration_groups``.

    One fold per group when there are at most ``cv`` groups, else ``cv`` folds of whole groups
    (``GroupKFold``), so a column with hundreds of sources costs ``cv`` fits, not hundreds. Folds whose held-out
    rows hold no calibration row (``calibrate_on``) are not fitted: their logits would not be read.
    """

    def __init__(self, parts: list[tuple[np.ndarray, np.ndarray]]) -> None:
        self.parts = parts

    @classmethod
    def of(cls, groups, Y: np.ndarray, *, cv: int = 5, calibrate_on: np.ndarray | None = None) -> GroupFolds | None:
        """The folds, or ``None`` (logged) when there are fewer than two groups or holding a fold out leaves a
        label without a training row."""
        from sklearn.model_selection import GroupKFold

        keys = group_keys(groups)
        names = pd.unique(keys)
        if len(names) < 2:
            log.warning("calibration_groups has one group: stratified folds are used instead")
            return None
        if len(names) <= cv:
            held_out = [keys == name for name in names]
        else:
            held_out = []
            for _, te in GroupKFold(n_splits=cv).split(keys, groups=keys):
                mask = np.zeros(len(keys), dtype=bool)
                mask[te] = True
                held_out.append(mask)
        labels = set(np.unique(Y))
        parts = []
        for held in held_out:
            missing = labels - set(np.unique(Y[~held]))
            if missing:
                log.warning("calibration_groups: holding out %s leaves %d label(s) with no training row; "
                            "stratified folds are used instead", sorted(set(keys[held]))[:3], len(missing))
                return None
            if calibrate_on is None or calibrate_on[held].any():
                parts.append((np.flatnonzero(~held), np.flatnonzero(held)))
        return cls(parts)

    def split(self, X=None, y=None):
        yield from self.parts
