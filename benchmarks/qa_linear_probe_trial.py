"""A trial for issue 22, not shipped: does a per-step linear probe on sentence vectors, fitted on the tuning replies
of ``scorecard tune``, add to the tuned detector? Same protocol, seeds and held-out macro-F1 as
``bench_qa_kechtel.py --plain benchmarks/data/scorecards --tune --splits 10``.

    python benchmarks/qa_linear_probe_trial.py

Variants per step (a logistic regression, balanced classes, fitted only when the step has 2+ tuning positives):
``probe_reply`` on the whole reply's vector; ``probe_sentence`` on each sentence (a positive reply's sentences all
positive), a reply found when one sentence is; ``or_*`` / ``and_*`` combine with the tuned detector.
"""

from __future__ import annotations

import re
import sys
from pathlib import Path

import numpy as np
import pandas as pd

sys.path.insert(0, str(Path(__file__).resolve().parent))
from bench_qa_kechtel import _step_ids, f1, load_brand  # noqa: E402

from cxlens.nlp.encoders import get_encoder  # noqa: E402
from cxlens.nlp.qa import load_scorecard, tune_scorecard  # noqa: E402
from cxlens.nlp.qa._tune import tuning_split  # noqa: E402

SENTENCE_END = re.compile(r"(?<=[.!?])\s+")


def sentences(text: str) -> list[str]:
    text = re.sub(r"@\w+", "", text).strip()
    return [s for s in SENTENCE_END.split(text) if s.strip()] or [text]


def main() -> None:
    from sklearn.linear_model import LogisticRegression

    encoder = get_encoder("minilm-l2")
    folder = Path(__file__).resolve().parent / "data" / "scorecards"
    for brand in ("AmazonHelp", "SpotifyCares"):
        tweets, defs, label_cols = load_brand(brand)
        texts = tweets["text"].astype(str).tolist()
        y = tweets[label_cols].fillna(0).astype(bool).to_numpy()
        card = load_scorecard(folder / f"plain_{brand.lower()}.yaml")
        ids = _step_ids(card, defs)
        labels = pd.DataFrame(y, columns=ids)
        split = [sentences(t) for t in texts]
        owner = np.repeat(np.arange(len(texts)), [len(s) for s in split])
        vectors, replies = encoder.encode([s for ss in split for s in ss]), encoder.encode(texts)
        scores: dict[str, list[float]] = {k: [] for k in ("tuned", "probe_reply", "probe_sentence", "or_reply",
                                                         "or_sentence", "and_sentence")}
        for seed in range(10):
            detector, _ = tune_scorecard(card, texts, labels, encoder="minilm-l2", per_step=20, seed=seed)
            tune, rest = tuning_split(labels, per_step=20, seed=seed)
            found = detector.detect(texts).found[:, [detector.column_index(str(k)) for k in ids]]
            reply_p, sentence_p = found.copy(), found.copy()
            for j in range(len(ids)):
                if y[tune, j].sum() < 2:
                    continue
                probe = LogisticRegression(class_weight="balanced", max_iter=1000).fit(replies[tune], y[tune, j])
                reply_p[:, j] = probe.predict_proba(replies)[:, 1] >= 0.5
                mine = np.isin(owner, tune)
                probe = LogisticRegression(class_weight="balanced", max_iter=1000).fit(vectors[mine], y[owner, j][mine])
                best = np.zeros(len(texts))
                np.maximum.at(best, owner, probe.predict_proba(vectors)[:, 1])
                sentence_p[:, j] = best >= 0.5
            preds = {"tuned": found, "probe_reply": reply_p, "probe_sentence": sentence_p, "or_reply": found | reply_p,
                     "or_sentence": found | sentence_p, "and_sentence": found & sentence_p}
            for name, p in preds.items():
                scores[name].append(float(np.nanmean([f1(y[rest, j], p[rest, j]) for j in range(len(ids))])))
        sys.stdout.write(f"{brand}: " + ", ".join(f"{k} {np.mean(v):.3f}" for k, v in scores.items()) + "\n")


if __name__ == "__main__":
    main()
