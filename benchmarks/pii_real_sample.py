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

A second, fresh sample (``--set names``, 8 Dec) measures person names on messages the name rules were never revised
on: none of the first sample's messages, per source a random sample of those with a *name-like* context (a
capitalised word after a greeting, a thank-you, "with/to/from/named/ask for", a role word such as agent, pilot or
wife; a capitalised word after ``^`` or a dash at the end; two capitalised words in a row inside a sentence; a
capitalised word and a comma opening the message), and a random sample of the rest (seed 2024):

    python benchmarks/pii_real_sample.py --set names --write
    python benchmarks/pii_real_sample.py --set names --texts /tmp/pii_names_texts.csv

The names sample became a development set for the name tagger (its filter and its training negatives were chosen
on it), so a third sample, ``--set names_test`` (seed 2025, none of the messages of the two before), measures the
final detector once.

An annotator's file (``key,type,value``) becomes the committed offsets (``key,type,start,end``; an entity is placed at
its first occurrence that is not inside a word or an @handle, so ``Russ`` in ``@RussellsWriting Russ,`` is the name):

    python benchmarks/pii_real_sample.py --set names --offsets /tmp/labels_a_values.csv --annotator a
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
#: the sample folder of each set: ``tweets`` (the first, 7 Dec) and ``names`` (fresh, for person names, 8 Dec)
SETS = {"tweets": ROOT / "benchmarks" / "data" / "pii_real", "names": ROOT / "benchmarks" / "data" / "pii_real_names",
        "names_test": ROOT / "benchmarks" / "data" / "pii_real_names_test"}
#: the seed of each names sample; ``names_test`` leaves out the messages of the two samples before it
NAMES_SEEDS = {"names": 2024, "names_test": 2025}
CANDIDATE = re.compile(r"\w@[\w-]+\.\w|(?<![\w.])\+?\(?\d(?:[\s().-]{0,2}\d){6,}|\d+\.\d+\.\d+\.\d+|\b(?i:my name)\b|"
                       r"\bI'?m [A-Z][a-z]|\b(?:Mr|Mrs|Ms|Dr)\.? [A-Z]")
VERSION = re.compile(r"^\d{1,2}(?:\.\d{1,4}){2,3}$")
RANDOM_PER_SOURCE = {"airline": 100, "spotify": 60, "kechtel": 60}
VERSION_CAP = 15
_CAP = r"[A-Z][a-z]+"
NAME_LIKE = re.compile(
    r"(?i:\b(?:hi|hello|hey|dear|thanks|thank you|thx|cheers|regards|with|to|from|named|ask for|asked|told|agent|rep|"
    r"representative|pilot|attendant|captain|manager|supervisor|son|daughter|wife|husband|mom|dad|friend)),?\s+" + _CAP
    + r"|(?:\^|\s[-~])\s?" + _CAP + r"\s*$"
    + r"|(?<![.!?]\s)(?<!^)\b" + _CAP + r"\s" + _CAP + r"\b"
    + r"|^(?:@\w+\s+)*" + _CAP + r",")
NAMES_PER_SOURCE = {"airline": 110, "spotify": 110, "kechtel": 40}
NAMES_RANDOM_PER_SOURCE = {"airline": 50, "spotify": 50, "kechtel": 20}


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


def draw_names(which: str = "names") -> pd.DataFrame:
    """A fresh names sample: no message of an earlier sample; name-like contexts and random ones per source."""
    rng = random.Random(NAMES_SEEDS[which])
    earlier = list(SETS)[:list(SETS).index(which)]
    used = pd.concat([pd.read_csv(SETS[name] / "sample_ids.csv", dtype={"id": str}) for name in earlier])
    used = set(used["source"] + ":" + used["id"])
    rows = []
    for name, frame in sources().items():
        frame = frame[~(name + ":" + frame["id"]).isin(used)]
        like = frame["text"].map(lambda t: NAME_LIKE.search(t) is not None)
        picked = rng.sample(list(frame.index[like]), min(NAMES_PER_SOURCE[name], int(like.sum())))
        rest = list(frame.index[~like])
        randoms = rng.sample(rest, min(NAMES_RANDOM_PER_SOURCE[name], len(rest)))
        rows += [{"source": name, "id": frame.at[i, "id"], "why": "name-like" if i in set(picked) else "random"}
                 for i in sorted(picked + randoms)]
    return pd.DataFrame(rows)


def locate(text: str, value: str, taken: list[tuple[int, int]] = ()) -> int:
    """Where ``value`` is in ``text``: the first occurrence that overlaps no span already ``taken`` and is not inside
    a word or an @handle, else the first free one, else the first one."""
    free = [m.start() for m in re.finditer(re.escape(value), text)
            if not any(m.start() < e and m.end() > s for s, e in taken)]
    for start in free:
        end = start + len(value)
        before, after = text[max(0, start - 1):start], text[end:end + 1]
        if not ((before.isalnum() or before in ("@", "_")) and before and value[:1].isalnum()
                or after.isalnum() and value[-1:].isalnum()):
            return start
    return free[0] if free else text.index(value)


def offsets(which: str, values: pd.DataFrame) -> pd.DataFrame:
    """An annotator's ``key,type,value`` rows as ``key,type,start,end``: longer values placed first, a repeated value
    at its next free occurrence ("Kelly" after two "Kelly Jones")."""
    texts = dict(zip(*sample_texts(which)[["key", "text"]].T.values))
    placed: dict[int, tuple[int, int]] = {}
    taken: dict[str, list[tuple[int, int]]] = {}
    order = sorted(range(len(values)), key=lambda i: -len(values["value"].iloc[i]))
    for i in order:
        key, kind, value = values["key"].iloc[i], values["type"].iloc[i], values["value"].iloc[i]
        if kind == "NONE":
            continue
        start = locate(texts[key], value, taken.setdefault(key, []))
        taken[key].append((start, start + len(value)))
        placed[i] = (start, start + len(value))
    rows = [(r.key, r.type, *placed.get(i, ("", ""))) for i, r in enumerate(values.itertuples())]
    return pd.DataFrame(rows, columns=["key", "type", "start", "end"])


def sample_texts(which: str = "tweets") -> pd.DataFrame:
    """The sample ``which`` (a key of :data:`SETS`) with its texts, keyed ``source:id``."""
    sample = pd.read_csv(SETS[which] / "sample_ids.csv", dtype={"id": str})
    texts = {name: dict(zip(frame["id"], frame["text"])) for name, frame in sources().items()}
    sample["text"] = [texts[s][i] for s, i in zip(sample["source"], sample["id"])]
    sample["key"] = sample["source"] + ":" + sample["id"]
    return sample


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--set", choices=sorted(SETS), default="tweets", help="which sample (default tweets)")
    parser.add_argument("--write", action="store_true", help="draw the sample and write its ids")
    parser.add_argument("--texts", metavar="CSV", help="write key,text for the annotators (not committed)")
    parser.add_argument("--offsets", metavar="CSV", help="an annotator's key,type,value file, to store as offsets")
    parser.add_argument("--annotator", default="a", help="with --offsets: the label file's letter (default a)")
    args = parser.parse_args()
    if args.write:
        SETS[args.set].mkdir(parents=True, exist_ok=True)
        (draw() if args.set == "tweets" else draw_names(args.set)).to_csv(SETS[args.set] / "sample_ids.csv",
                                                                           index=False)
    if args.texts:
        frame = sample_texts(args.set)[["key", "text"]].sample(frac=1.0, random_state=3)
        frame.to_csv(args.texts, index=False, quoting=csv.QUOTE_ALL)
    if args.offsets:
        values = pd.read_csv(args.offsets, keep_default_na=False, dtype=str)
        offsets(args.set, values).to_csv(SETS[args.set] / f"labels_{args.annotator}.csv", index=False)
    if not (args.write or args.texts or args.offsets):
        parser.print_help()


if __name__ == "__main__":
    main()
