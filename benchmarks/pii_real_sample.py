"""The real-text PII sample of issue 24: which visible public support messages are labelled, and a file of their texts
for the annotators.

Three public sources, all read from ``../shared/data`` (two are non-commercial, so only their ids are kept here):

* airline tweets (``twitter_airline_sentiment/train.csv``, CC BY-NC-SA: measuring only);
* tweets to @SpotifyCares (``twcs/spotifycares_support_requests.csv``, TWCS, CC BY-NC-SA: measuring only);
* Kechtel et al.'s labelled inbound tweets to @AmazonHelp and @SpotifyCares (``twcs/kechtel_ericsson/labeled``).

Per source: every message with a *candidate* (an ``@`` between word characters and a dot after it, a run of 7 or
more digits with spaces, dots, dashes or brackets between them, a dotted quad, ``my name``, ``I'm X``, ``Mr X``), a
capped random sample of the messages whose only candidate is a version-like dotted number (``8.4.28.1104``), and a
random sample of the rest (seed 24). Candidates are deliberately broader than the detector, so that the recall of
emails and phones is measured over everything that could be one.

    python benchmarks/pii_real_sample.py --write        # benchmarks/data/pii_real/sample_ids.csv (done once)
    python benchmarks/pii_real_sample.py --texts /tmp/pii_real_texts.csv   # the texts, for the annotators
"""

from __future__ import annotations

import argparse
import csv
import random
import re
from pathlib import Path

import pandas as pd

ROOT = Path(__file__).resolve().parents[1]
DATA = ROOT.parent / "shared" / "data"
SAMPLE = ROOT / "benchmarks" / "data" / "pii_real" / "sample_ids.csv"
CANDIDATE = re.compile(r"\w@[\w-]+\.\w|(?<![\w.])\+?\(?\d(?:[\s().-]{0,2}\d){6,}|\d+\.\d+\.\d+\.\d+|\b(?i:my name)\b|"
                       r"\bI'?m [A-Z][a-z]|\b(?:Mr|Mrs|Ms|Dr)\.? [A-Z]")
VERSION = re.compile(r"^\d{1,2}(?:\.\d{1,4}){2,3}$")
RANDOM_PER_SOURCE = {"airline": 100, "spotify": 60, "kechtel": 60}
VERSION_CAP = 15


def sources() -> dict[str, pd.DataFrame]:
    """Each source's messages as (id, text)."""
    airline = pd.read_csv(DATA / "twitter_airline_sentiment" / "train.csv", dtype={"tweet_id": str})
    spotify = pd.read_csv(DATA / "twcs" / "spotifycares_support_requests.csv", dtype={"tweet_id": str})
    kechtel = pd.concat([pd.read_csv(p, dtype={"tweet_id": str})
                         for p in sorted((DATA / "twcs" / "kechtel_ericsson" / "labeled").glob("*-inbound.csv"))])
    out = {}
    for name, frame in (("airline", airline), ("spotify", spotify), ("kechtel", kechtel)):
        frame = frame[["tweet_id", "text"]].dropna().drop_duplicates("tweet_id")
        out[name] = frame.rename(columns={"tweet_id": "id"}).reset_index(drop=True)
    return out


def _kind(text: str) -> str:
    found = [m.group() for m in CANDIDATE.finditer(text)]
    if not found:
        return "none"
    return "version" if all(VERSION.match(f.strip()) for f in found) else "candidate"


def draw() -> pd.DataFrame:
    rng = random.Random(24)
    rows = []
    for name, frame in sources().items():
        kinds = frame["text"].map(_kind)
        picked = list(frame.index[kinds == "candidate"])
        versions = list(frame.index[kinds == "version"])
        picked += rng.sample(versions, min(VERSION_CAP, len(versions)))
        rest = [i for i in frame.index[kinds == "none"]]
        picked += rng.sample(rest, min(RANDOM_PER_SOURCE[name], len(rest)))
        rows += [{"source": name, "id": frame.at[i, "id"], "why": kinds[i] if kinds[i] != "none" else "random"}
                 for i in sorted(picked)]
    return pd.DataFrame(rows)


def sample_texts() -> pd.DataFrame:
    """The sample with its texts, keyed ``source:id``."""
    sample = pd.read_csv(SAMPLE, dtype={"id": str})
    texts = {name: dict(zip(frame["id"], frame["text"])) for name, frame in sources().items()}
    sample["text"] = [texts[s][i] for s, i in zip(sample["source"], sample["id"])]
    sample["key"] = sample["source"] + ":" + sample["id"]
    return sample


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--write", action="store_true", help="draw the sample and write its ids")
    parser.add_argument("--texts", metavar="CSV", help="write key,text for the annotators (not committed)")
    args = parser.parse_args()
    if args.write:
        SAMPLE.parent.mkdir(parents=True, exist_ok=True)
        draw().to_csv(SAMPLE, index=False)
    if args.texts:
        frame = sample_texts()[["key", "text"]].sample(frac=1.0, random_state=3)
        frame.to_csv(args.texts, index=False, quoting=csv.QUOTE_ALL)
    if not (args.write or args.texts):
        parser.print_help()


if __name__ == "__main__":
    main()
