"""Request types on real messages (issue 20): the dev set, the example archive, calibration and head speed.

    python benchmarks/bench_request_types.py                          # the shipped model vs the one at 4e3862e
    python benchmarks/bench_request_types.py --model DIR_OR_TAXONOMY   # any taxonomy file or trained folder

* **dev set**: ``benchmarks/data/request_type_dev`` (388 real messages from six sources, labelled twice; the
  texts are read from ``../shared/data``). A prediction is right when it matches either annotator's primary
  label. Reported: accuracy, macro-F1 (against the matching annotator, else annotator A), per source and per
  class, the share of in-scope messages (both annotators say not ``other``) sent to ``other``, coverage, the
  expected calibration error (10 bins; its bins, a bootstrap interval, the mean confidence), and how often the
  second label is one an annotator gave.
* **example archive**: agreement with the generator's ``true_request_type`` and the share of ``other``.
* **speed**: the request-type head per text on vectors computed once (the shared encoder's cost is the same for
  both), new model vs the baseline model from git (``--baseline-rev``), measured in one run; the CPU model is
  printed beside it.

Prints one JSON object (stdout); ``--out FILE`` writes it too.
"""

from __future__ import annotations

import argparse
import json
import platform
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import pandas as pd

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

from request_type_dev_set import labels as dev_labels  # noqa: E402

from cxlens.nlp import Texts  # noqa: E402
from cxlens.nlp.classify import DEFAULT_TAXONOMY, TaxonomyClassifier, load_classifier  # noqa: E402

EXAMPLE_TICKETS = HERE.parent / "cxlens" / "data" / "example_archive" / "tickets.csv"
BASELINE_FILES = ("params.json", "head.json", "head.npz")


def cpu_model() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown"


def ece(conf: np.ndarray, correct: np.ndarray, bins: int = 10) -> float:
    edges = np.linspace(0, 1, bins + 1)
    total = 0.0
    for lo, hi in zip(edges[:-1], edges[1:]):
        m = (conf > lo) & (conf <= hi)
        if m.any():
            total += m.mean() * abs(conf[m].mean() - correct[m].mean())
    return float(total)


def confidence_bins(conf: np.ndarray, correct: np.ndarray, bins: int = 10) -> list[dict]:
    """The bins behind :func:`ece`: messages, mean confidence and share right in each."""
    edges = np.linspace(0, 1, bins + 1)
    out = []
    for lo, hi in zip(edges[:-1], edges[1:]):
        m = (conf > lo) & (conf <= hi)
        if m.any():
            out.append({"bin": f"{lo:.1f}-{hi:.1f}", "n": int(m.sum()), "confidence": round(float(conf[m].mean()), 3),
                        "right": round(float(correct[m].mean()), 3)})
    return out


def ece_bootstrap(conf: np.ndarray, correct: np.ndarray, n: int = 1000, seed: int = 0) -> list[float]:
    """2.5 and 97.5 percentiles of :func:`ece` over ``n`` resamples of the messages (biased upwards: resampled
    duplicates add binning noise)."""
    rng = np.random.default_rng(seed)
    values = [ece(conf[b], correct[b]) for b in (rng.integers(0, len(conf), len(conf)) for _ in range(n))]
    return [round(float(v), 3) for v in np.percentile(values, [2.5, 97.5])]


def macro_f1(truth: np.ndarray, pred: np.ndarray) -> float:
    from sklearn.metrics import f1_score

    labels = sorted(set(truth))
    return float(f1_score(truth, pred, labels=labels, average="macro", zero_division=0))


def dev_metrics(model) -> dict:
    from sklearn.metrics import classification_report

    frame = dev_labels()
    notes = model.annotate(Texts(frame["text"].tolist()))
    pred = notes["label"].to_numpy(dtype=object)
    conf = notes["confidence"].to_numpy(dtype=float)
    a, b = frame["primary_a"].to_numpy(dtype=object), frame["primary_b"].to_numpy(dtype=object)
    right = (pred == a) | (pred == b)
    truth = np.where(pred == b, b, a)  # the annotator the prediction agrees with, else A
    in_scope = (a != "other") & (b != "other")
    out = {
        "n": int(len(frame)), "accuracy": float(right.mean()), "macro_f1": macro_f1(truth, pred),
        "other_share_in_scope": float((pred[in_scope] == "other").mean()),
        "coverage": float((pred != "other").mean()), "ece": ece(conf, right),
        "mean_confidence": float(conf.mean()), "confidence_bins": confidence_bins(conf, right),
        "ece_bootstrap_95": ece_bootstrap(conf, right),
        "annotator_agreement": float((a == b).mean()),
        "per_source": {s: {"n": int(m.sum()), "accuracy": float(right[m].mean()),
                           "macro_f1": macro_f1(truth[m], pred[m])}
                       for s in sorted(frame["source"].unique()) for m in [(frame["source"] == s).to_numpy()]},
        "per_class": {k: {"precision": round(v["precision"], 3), "recall": round(v["recall"], 3),
                          "f1": round(v["f1-score"], 3), "support": int(v["support"])}
                      for k, v in classification_report(truth, pred, output_dict=True, zero_division=0).items()
                      if isinstance(v, dict) and k not in ("macro avg", "weighted avg")},
    }
    if "secondary" in notes:
        second = notes["secondary"].to_numpy(dtype=object)
        given = notes["secondary"].notna().to_numpy()
        gold = [{x, y, s, t} - {""} for x, y, s, t in zip(a, b, frame["secondary_a"], frame["secondary_b"])]
        hit = np.array([s in g for s, g in zip(second, gold)])
        has_gold_second = np.array([bool(s or t) for s, t in zip(frame["secondary_a"], frame["secondary_b"])])
        out["secondary"] = {"share_given": float(given.mean()),
                            "precision": float(hit[given].mean()) if given.any() else None,
                            "recall": float((hit & given)[has_gold_second].mean()) if has_gold_second.any() else None}
    return out


def example_metrics(model) -> dict:
    tickets = pd.read_csv(EXAMPLE_TICKETS)
    pred = model.predict(Texts(tickets["text"].fillna("").tolist()))
    truth = tickets["true_request_type"].to_numpy(dtype=object)
    return {"n": int(len(tickets)), "accuracy": float((pred == truth).mean()),
            "other_share": float((pred == "other").mean()), "macro_f1": macro_f1(truth, pred)}


def baseline_model(rev: str, folder: Path):
    """The shipped request-type model as it was at git revision ``rev``."""
    for name in BASELINE_FILES:
        blob = subprocess.run(["git", "show", f"{rev}:nlp/artifacts/request_type/{name}"], cwd=HERE.parent,
                              capture_output=True, check=True).stdout
        (folder / name).write_bytes(blob)
    return load_classifier(folder)


def head_seconds_per_text(model, texts: list[str], repeats: int = 3) -> float:
    batch = Texts(texts)
    model.predict(batch)  # encodes once; the timing below is the head on vectors the batch carries
    best = float("inf")
    for _ in range(repeats):
        t0 = time.perf_counter()
        model.predict(batch)
        best = min(best, time.perf_counter() - t0)
    return best / len(texts)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--model", default=str(DEFAULT_TAXONOMY), help="taxonomy file or trained folder")
    ap.add_argument("--baseline-rev", default="4e3862e", help="git revision of the baseline shipped model")
    ap.add_argument("--out", help="also write the JSON here")
    args = ap.parse_args(argv)
    model = TaxonomyClassifier(taxonomy=args.model).fit()
    result = {"cpu": cpu_model(), "model": args.model, "mode": model.mode_,
              "dev": dev_metrics(model), "example_archive": example_metrics(model)}
    with tempfile.TemporaryDirectory() as tmp:
        base = baseline_model(args.baseline_rev, Path(tmp))
        result["baseline"] = {"rev": args.baseline_rev, "dev": dev_metrics(base),
                              "example_archive": example_metrics(base)}
        texts = dev_labels()["text"].tolist() + pd.read_csv(EXAMPLE_TICKETS)["text"].fillna("").tolist()
        new_s, base_s = head_seconds_per_text(model, texts), head_seconds_per_text(base, texts)
        encoder = model.text_encoder()
        t0 = time.perf_counter()
        encoder.encode(texts[:500])
        enc_s = (time.perf_counter() - t0) / 500
    result["speed"] = {"head_ms_per_text": round(new_s * 1e3, 4), "baseline_head_ms_per_text": round(base_s * 1e3, 4),
                       "head_ratio": round(new_s / base_s, 2), "encoder_ms_per_text": round(enc_s * 1e3, 3),
                       "step_ratio_with_encoder": round((enc_s + new_s) / (enc_s + base_s), 3)}
    text = json.dumps(result, indent=2)
    sys.stdout.write(text + "\n")
    if args.out:
        Path(args.out).write_text(text + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
