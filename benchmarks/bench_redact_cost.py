"""What redaction costs the models (issue 24): sentiment and request type on raw vs redacted texts.

``cxlens score --redact`` redacts before encoding, so the models see ``[PERSON]``, ``[EMAIL]``, ``[HANDLE]``...
This scores the same labelled texts both ways with the shipped models:

* sentiment: the first ``--n`` airline tweets (``../shared/data/twitter_airline_sentiment/train.csv``, CC
  BY-NC-SA, evaluation only; nearly every tweet starts with an @handle), accuracy and macro-F1;
* request type: the real-message dev set of issue 20 (``benchmarks/request_type_dev_set.py``; annotator A's
  primary labels), accuracy.

    python benchmarks/bench_redact_cost.py [--n 1500]

Texts are redacted both ways person names can be found (``names="rules"`` and ``"tagger"``, the default).
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))

from train_sentiment import airline_tweets  # noqa: E402

from cxlens.redact import redact_texts  # noqa: E402

SHARED = Path(__file__).resolve().parents[2] / "shared" / "data"


def macro_f1(truth: list[str], pred: list[str]) -> float:
    scores = []
    for label in sorted(set(truth)):
        tp = sum(t == label and p == label for t, p in zip(truth, pred))
        fp = sum(t != label and p == label for t, p in zip(truth, pred))
        fn = sum(t == label and p != label for t, p in zip(truth, pred))
        scores.append(2 * tp / (2 * tp + fp + fn) if tp else 0.0)
    return float(np.mean(scores))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=1500, help="airline tweets (default 1500)")
    args = parser.parse_args()
    from cxlens.nlp.sentiment import score_sentiment

    texts, truth = airline_tweets(SHARED)
    texts, truth = texts[:args.n], truth[:args.n]
    versions = [("raw", texts)]
    for names in ("rules", "tagger"):
        redacted, counts = redact_texts(texts, names=names)
        changed = sum(a != b for a, b in zip(texts, redacted))
        print(f"sentiment: {len(texts)} airline tweets, names by {names}: {changed} changed ({dict(counts)})")
        versions.append((f"redacted, names by {names}", redacted))
    print("| texts | accuracy | macro-F1 | s |\n|---|---:|---:|---:|")
    for name, batch in versions:
        start = time.perf_counter()
        pred = list(score_sentiment(batch)["sentiment"])
        seconds = time.perf_counter() - start
        accuracy = float(np.mean([p == t for p, t in zip(pred, truth)]))
        print(f"| {name} | {accuracy:.3f} | {macro_f1(truth, pred):.3f} | {seconds:.0f} |")
    try:
        from request_type_dev_set import labels
    except ImportError:
        print("request type: benchmarks/request_type_dev_set.py is not here; skipped")
        return
    from cxlens import load_request_type_model

    dev = labels()
    model = load_request_type_model()
    raw = list(dev["text"])
    truth = list(dev["primary_a"])
    versions = [("raw", raw)]
    for names in ("rules", "tagger"):
        red, counts = redact_texts(raw, names=names)
        print(f"\nrequest type: {len(raw)} dev messages, names by {names}: {sum(a != b for a, b in zip(raw, red))} "
              f"changed by redaction ({dict(counts)})")
        versions.append((f"redacted, names by {names}", red))
    print("| texts | accuracy (annotator A) | agreement with raw |\n|---|---:|---:|")
    base = list(model.predict(raw))
    for name, batch in versions:
        pred = base if name == "raw" else list(model.predict(batch))
        accuracy = float(np.mean([p == t for p, t in zip(pred, truth)]))
        agree = float(np.mean([p == b for p, b in zip(pred, base)]))
        print(f"| {name} | {accuracy:.3f} | {agree:.3f} |")


if __name__ == "__main__":
    main()
