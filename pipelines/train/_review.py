"""The review loop: the messages most worth a human look, as a CSV to fill in and feed back to training.

:func:`review_candidates` scores a pool of unlabelled messages with a taxonomy classifier and picks ``n``:

* ``close_call``: the smallest margin between the label and the runner-up (the model hesitates between two);
* ``low_confidence``: the lowest confidence of the rest;
* ``other_cluster``: messages sent to ``other``, clustered on their vectors, the largest clusters first (a
  group of similar messages the taxonomy does not cover: a missing label, or a label without examples).

Each row says why it was picked; the ``label`` column is left empty for the reviewer. ``cxlens train
classifier --taxonomy FILE --data labelled.csv --data review.csv`` trains on the filled rows (empty labels are
skipped).
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from cxlens.nlp import Texts

__all__ = ["REVIEW_SHARES", "review_candidates"]

#: share of the picks per reason (the rest of a reason's share goes to the next one when it runs out)
REVIEW_SHARES = {"close_call": 0.4, "low_confidence": 0.3, "other_cluster": 0.3}


def _dedupe_key(text: str) -> str:
    return " ".join(str(text).lower().split())


def review_candidates(model, texts: list[str], *, n: int = 200, ids: list | None = None,
                      random_state: int = 0) -> pd.DataFrame:
    """``n`` messages of ``texts`` worth a human label, with the model's view of each (see the module doc).

    ``model``: a fitted :class:`~cxlens.nlp.classify.TaxonomyClassifier` (or any classifier with
    ``annotate``, ``predict_proba``, ``classes_`` and ``text_encoder``). Columns: ``id`` (when ``ids``),
    ``text``, ``predicted``, ``confidence``, ``runner_up``, ``runner_up_confidence``, ``why``, ``label`` (empty).
    """
    batch = Texts.of([str(t) for t in texts])
    if not len(batch) or n <= 0:
        return pd.DataFrame(columns=["text", "predicted", "confidence", "runner_up", "runner_up_confidence",
                                     "why", "label"])
    proba = np.asarray(model.predict_proba(batch), dtype=np.float64)
    notes = model.annotate(batch)
    order = np.argsort(-proba, axis=1)
    top, second = proba[np.arange(len(proba)), order[:, 0]], proba[np.arange(len(proba)), order[:, 1]]
    frame = pd.DataFrame({"text": batch.tolist(), "predicted": notes["label"].to_numpy(),
                          "confidence": notes["confidence"].round(4).to_numpy(),
                          "runner_up": np.asarray(model.classes_, dtype=object)[order[:, 1]],
                          "runner_up_confidence": second.round(4)})
    if ids is not None:
        frame.insert(0, "id", list(ids))
    frame["_key"] = frame["text"].map(_dedupe_key)
    frame = frame[frame["_key"].str.len() > 0].drop_duplicates("_key")
    other = getattr(getattr(model, "taxonomy_", None), "other_label", "other")
    picked: list[int] = []
    quota = {why: int(round(share * n)) for why, share in REVIEW_SHARES.items()}
    carry = 0
    margin = pd.Series(top - second, index=range(len(top)))
    for why in REVIEW_SHARES:
        want = quota[why] + carry
        pool = frame.index.difference(picked)
        if why == "close_call":
            rows = margin.loc[pool].sort_values(kind="stable").index[:want].tolist()
        elif why == "low_confidence":
            rows = frame.loc[pool, "confidence"].sort_values(kind="stable").index[:want].tolist()
        else:
            rows = _other_clusters(batch, model, frame.loc[pool], other, want, random_state)
        frame.loc[rows, "why"] = why
        picked += rows
        carry = want - len(rows)
    if len(picked) < n:  # a reason ran short at the end: the next closest calls fill the list
        rest = margin.loc[frame.index.difference(picked)].sort_values(kind="stable").index[:n - len(picked)]
        frame.loc[rest, "why"] = "close_call"
        picked += rest.tolist()
    out = frame.loc[picked].drop(columns="_key")
    out["label"] = ""
    return out.reset_index(drop=True)


def _other_clusters(batch: Texts, model, pool: pd.DataFrame, other: str, want: int, seed: int) -> list[int]:
    """Up to ``want`` rows of ``pool`` labelled ``other``: a few from each cluster, the largest clusters first."""
    rows = pool.index[pool["predicted"] == other]
    if want <= 0 or not len(rows):
        return []
    from sklearn.cluster import KMeans

    vectors = batch.vectors(model.text_encoder())[rows]
    k = int(min(len(rows), max(1, want // 3)))
    labels = KMeans(n_clusters=k, n_init=3, random_state=seed).fit_predict(vectors) if k > 1 else np.zeros(len(rows))
    sizes = pd.Series(labels).value_counts()
    per = max(1, want // max(1, len(sizes)))
    out: list[int] = []
    for cluster in sizes.index:
        members = rows[labels == cluster]
        out += members[:per].tolist()
        if len(out) >= want:
            break
    return out[:want]
