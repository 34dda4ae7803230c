"""Evaluating a text classifier: accuracy, macro-F1, per-class report and a confusion matrix (CSV and PNG).

Used by ``cxlens evaluate``; works on any :class:`cxlens.nlp.classify._classifier.TextClassifier` (single- or
multi-label).
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np

from cxlens._csv_safety import write_csv

__all__ = ["evaluate_classifier", "write_evaluation"]


def evaluate_classifier(model, X, y) -> dict:
    """Accuracy, macro-F1, per-class report and confusion matrix of ``model`` on ``(X, y)``.

    Single-label: predictions include ``other`` below the threshold (the labels a user sees);
    ``accuracy_top1`` is the argmax accuracy without the threshold. Multi-label: ``y`` as for ``fit``;
    micro/macro F1, subset accuracy and one 2x2 confusion matrix per label.
    """
    import pandas as pd
    from sklearn.metrics import accuracy_score, classification_report, confusion_matrix, f1_score

    if getattr(model, "multi_label", False):
        from sklearn.metrics import multilabel_confusion_matrix

        classes, Yt = model._encode_targets(y)
        index = {c: j for j, c in enumerate(model.classes_)}
        true = np.zeros((len(Yt), len(model.classes_)), dtype=int)
        for j, c in enumerate(classes):
            if c in index:
                true[:, index[c]] = Yt[:, j]
        pred = model.predict(X)
        mcm = multilabel_confusion_matrix(true, pred)
        cm = pd.DataFrame([{"label": c, "tn": m[0, 0], "fp": m[0, 1], "fn": m[1, 0], "tp": m[1, 1]}
                           for c, m in zip(model.classes_, mcm)])
        report = classification_report(true, pred, target_names=list(model.classes_), output_dict=True, zero_division=0)
        return {"n": int(len(true)), "subset_accuracy": float(accuracy_score(true, pred)),
                "micro_f1": float(f1_score(true, pred, average="micro", zero_division=0)),
                "macro_f1": float(f1_score(true, pred, average="macro", zero_division=0)),
                "report": report, "confusion": cm, "multi_label": True}
    y = np.asarray([str(v) for v in np.asarray(y, dtype=object).ravel()], dtype=object)
    proba, sim = model._proba_similarity(X)
    top1 = model.classes_[proba.argmax(1)]
    pred, _ = model._decide(proba, sim)
    labels = sorted(set(y) | set(pred))
    cm = pd.DataFrame(confusion_matrix(y, pred, labels=labels), index=pd.Index(labels, name="true"),
                      columns=pd.Index(labels, name="predicted"))
    return {"n": int(len(y)), "accuracy": float(accuracy_score(y, pred)),
            "accuracy_top1": float(accuracy_score(y, top1)),
            "macro_f1": float(f1_score(y, pred, average="macro", zero_division=0)),
            "share_other": float(np.mean(pred == model.other_label)),
            "report": classification_report(y, pred, output_dict=True, zero_division=0),
            "confusion": cm, "multi_label": False}


def write_evaluation(result: dict, out_dir: str | Path) -> dict[str, Path]:
    """Write ``metrics.json``, ``per_class.csv``, ``confusion_matrix.csv`` and ``confusion_matrix.png``."""
    import pandas as pd

    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    paths = {"metrics": out / "metrics.json", "per_class": out / "per_class.csv",
             "confusion_csv": out / "confusion_matrix.csv", "confusion_png": out / "confusion_matrix.png"}
    scalars = {k: v for k, v in result.items() if k not in ("report", "confusion")}
    paths["metrics"].write_text(json.dumps(scalars, indent=2) + "\n")
    report = pd.DataFrame(result["report"]).T.rename_axis("label").reset_index()
    write_csv(report, paths["per_class"])
    cm = result["confusion"]
    write_csv(cm, paths["confusion_csv"], index=not result["multi_label"])
    _plot_confusion(cm, paths["confusion_png"], multi_label=result["multi_label"])
    return paths


def _plot_confusion(cm, path: Path, *, multi_label: bool) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    if multi_label:
        values = cm[["tp", "fp", "fn"]].to_numpy(dtype=float)
        rows, cols = list(cm["label"]), ["tp", "fp", "fn"]
    else:
        values = cm.to_numpy(dtype=float)
        rows, cols = list(cm.index), list(cm.columns)
    size = max(4.0, 0.35 * max(len(rows), len(cols)) + 2)
    fig, ax = plt.subplots(figsize=(size if not multi_label else 5, size))
    ax.imshow(values, cmap="Blues")
    ax.set_xticks(range(len(cols)), cols, rotation=90, fontsize=7)
    ax.set_yticks(range(len(rows)), rows, fontsize=7)
    ax.set_xlabel("predicted" if not multi_label else "count")
    ax.set_ylabel("true" if not multi_label else "label")
    if values.size <= 400:
        for (i, j), v in np.ndenumerate(values):
            if v:
                ax.text(j, i, f"{int(v)}", ha="center", va="center", fontsize=6)
    fig.tight_layout()
    fig.savefig(path, dpi=120)
    plt.close(fig)
