"""What a taxonomy file reaches with descriptions only, then with 5 examples per label (issue 20).

    python benchmarks/bench_taxonomy_modes.py [--out FILE]

Three real label sets, each used as a team would bring its own taxonomy (the only supervision is in the file):

* **airline** complaint reasons (``negativereason`` of the airline tweets' visible train split, "Can't Tell"
  left out): descriptions written by us in ``benchmarks/data/taxonomies/airline_negativereason.yaml``;
* **AmazonHelp** and **SpotifyCares** topics (kechtel/ericsson labelled inbound tweets): descriptions are the
  published topic definitions (``topics-activities/*-inbound-topics.csv``, column ``Label``); a third variant
  adds the definition's keyword (``Keyword``).

Modes: ``zero-shot`` (descriptions), ``few-shot`` (descriptions + 5 examples per label drawn from the data,
seeded; the examples are left out of the evaluation), ``few-shot + keywords`` (kechtel only). The tweets are
multi-label there: a prediction is right when it is one of the message's topics (messages without any topic
are left out). The data sets are non-commercial: measured here, never trained into what we ship; the taxonomy
files with examples are written to a temporary folder, not kept.
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
from pathlib import Path

import numpy as np
import pandas as pd
import yaml

from cxlens.nlp import Texts
from cxlens.nlp.classify import TaxonomyClassifier, load_taxonomy

HERE = Path(__file__).resolve().parent
SHARED = HERE.parents[1] / "shared" / "data"
KECHTEL = SHARED / "twcs" / "kechtel_ericsson"
AIRLINE_TAXONOMY = HERE / "data" / "taxonomies" / "airline_negativereason.yaml"
N_EXAMPLES = 5
SEED = 20


def _slug(name: str) -> str:
    return "".join(c if c.isalnum() else "_" for c in name.lower()).strip("_")


def airline_data() -> tuple[list[str], list[set[str]]]:
    tweets = pd.read_csv(SHARED / "twitter_airline_sentiment" / "train.csv")
    tweets = tweets[tweets["negativereason"].notna() & (tweets["negativereason"] != "Can't Tell")]
    return tweets["text"].tolist(), [{_slug(r)} for r in tweets["negativereason"]]


def kechtel_data(brand: str) -> tuple[list[str], list[set[str]], dict, dict]:
    defs = pd.read_csv(KECHTEL / "topics-activities" / f"twcs-{brand}-inbound-topics.csv")
    tweets = pd.read_csv(KECHTEL / "labeled" / f"twcs-{brand}-200-inbound.csv")
    topics = [t for t in defs["Topic"] if t in tweets.columns]
    gold = [{_slug(t) for t in topics if pd.notna(row[t])} for _, row in tweets.iterrows()]
    keep = [i for i, g in enumerate(gold) if g]
    descriptions = {_slug(t): d for t, d in zip(defs["Topic"], defs["Label"]) if t in topics}
    keywords = {_slug(t): [k] for t, k in zip(defs["Topic"], defs["Keyword"]) if t in topics and isinstance(k, str)}
    return [tweets["text"].iloc[i] for i in keep], [gold[i] for i in keep], descriptions, keywords


def taxonomy_file(folder: Path, name: str, descriptions: dict, examples: dict | None = None,
                  keywords: dict | None = None) -> Path:
    labels = {}
    for label, desc in descriptions.items():
        spec = {"description": desc}
        if examples and examples.get(label):
            spec["examples"] = examples[label]
        if keywords and keywords.get(label):
            spec["keywords"] = keywords[label]
        labels[label] = spec
    path = folder / f"{name}.yaml"
    path.write_text(yaml.safe_dump({"name": name, "other": {"label": "other", "policy": "never"},
                                    "labels": labels}, sort_keys=False), encoding="utf-8")
    return path


def draw_examples(texts: list[str], gold: list[set[str]], labels: list[str]) -> tuple[dict, set[int]]:
    """Up to 5 messages per label (single-topic ones first), never more than all but one of a label's messages."""
    rng = np.random.default_rng(SEED)
    used: set[int] = set()
    out: dict[str, list[str]] = {}
    for label in labels:
        rows = [i for i, g in enumerate(gold) if label in g and i not in used]
        rows.sort(key=lambda i: (len(gold[i]) > 1, rng.random()))
        take = rows[:min(N_EXAMPLES, max(0, len(rows) - 1))]
        out[label] = [texts[i] for i in take]
        used.update(take)
    return out, used


def score(path: Path, texts: list[str], gold: list[set[str]], rows: list[int], mode: str) -> dict:
    model = TaxonomyClassifier(taxonomy=path, mode=mode).fit()
    pred = model.predict(Texts([texts[i] for i in rows]))
    right = np.array([p in gold[i] for p, i in zip(pred, rows)])
    from sklearn.metrics import f1_score

    truth = [p if p in gold[i] else sorted(gold[i])[0] for p, i in zip(pred, rows)]
    return {"mode": model.mode_, "n": len(rows), "accuracy": round(float(right.mean()), 3),
            "macro_f1": round(float(f1_score(truth, pred, average="macro", zero_division=0)), 3)}


def run_set(name: str, texts, gold, descriptions, keywords, folder: Path) -> dict:
    labels = list(descriptions)
    examples, used = draw_examples(texts, gold, labels)
    rest = [i for i in range(len(texts)) if i not in used]
    out = {"labels": len(labels), "zero_shot": score(taxonomy_file(folder, f"{name}-zero", descriptions),
                                                     texts, gold, rest, "zero-shot"),
           "few_shot": score(taxonomy_file(folder, f"{name}-few", descriptions, examples), texts, gold, rest,
                             "few-shot")}
    if keywords:
        out["few_shot_keywords"] = score(taxonomy_file(folder, f"{name}-kw", descriptions, examples, keywords),
                                         texts, gold, rest, "few-shot")
    return out


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--out", help="also write the JSON here")
    args = ap.parse_args(argv)
    result = {}
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        texts, gold = airline_data()
        descriptions = load_taxonomy(AIRLINE_TAXONOMY).descriptions()
        result["airline_negativereason"] = run_set("airline", texts, gold, descriptions, None, folder)
        for brand in ("AmazonHelp", "SpotifyCares"):
            texts, gold, descriptions, keywords = kechtel_data(brand)
            result[f"kechtel_{brand}"] = run_set(brand, texts, gold, descriptions, keywords, folder)
    text = json.dumps(result, indent=2)
    sys.stdout.write(text + "\n")
    if args.out:
        Path(args.out).write_text(text + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
