"""Build the real-message dev set for request types (issue 20) from ``../shared/data``.

The dev set is about 400 visible, real customer messages from six public sources. Only their ids are
kept in the repository (``benchmarks/data/request_type_dev/sample_ids.csv``): several sources are
licensed for non-commercial use (airline tweets, TWCS, the Bueck tickets), so their text is read from
``../shared/data`` each time, never copied into the project. Two annotators labelled the sample
independently with ``guideline.md`` (``labels_a.csv``, ``labels_b.csv``).

    python benchmarks/request_type_dev_set.py --write-sample      # choose the ids (done once)
    python benchmarks/request_type_dev_set.py --messages out.csv  # id, source, text for annotators

Held-back parts are never read: no AppleSupport text (its labelled tweets are held back), the
IBM ``test.json`` and the airline rows outside ``train.csv`` are not in ``../shared/data``.
``messages()`` is what the benchmarks import.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

import pandas as pd

from cxlens._csv_safety import write_csv

HERE = Path(__file__).resolve().parent
DEV_DIR = HERE / "data" / "request_type_dev"
SHARED = Path(__file__).resolve().parents[2] / "shared" / "data"
PER_SOURCE = {"airline": 70, "twcs_brands": 40, "amazonhelp": 70, "spotify": 70, "bueck": 70, "ibm": 70}
SEED = 20


def _no_apple(text: pd.Series) -> pd.Series:
    return ~text.str.contains("applesupport", case=False, na=False)


def candidates(shared: Path = SHARED) -> pd.DataFrame:
    """Every visible message a dev-set id can point at: ``id`` (source:key), ``source``, ``text``."""
    parts = []
    air = pd.read_csv(shared / "twitter_airline_sentiment" / "train.csv", dtype=str)
    parts.append(pd.DataFrame({"key": air["tweet_id"], "source": "airline", "text": air["text"]}))
    twcs = pd.read_csv(shared / "twcs" / "sample.csv", dtype=str)
    twcs = twcs[(twcs["inbound"] == "True") & _no_apple(twcs["text"])]
    parts.append(pd.DataFrame({"key": twcs["tweet_id"], "source": "twcs_brands", "text": twcs["text"]}))
    amz = pd.read_csv(shared / "twcs" / "kechtel_ericsson" / "labeled" / "twcs-AmazonHelp-200-inbound.csv", dtype=str)
    parts.append(pd.DataFrame({"key": amz["tweet_id"], "source": "amazonhelp", "text": amz["text"]}))
    spo = pd.read_csv(shared / "twcs" / "spotifycares_support_requests.csv", dtype=str)
    spo = spo[_no_apple(spo["text"])]
    parts.append(pd.DataFrame({"key": spo["tweet_id"], "source": "spotify", "text": spo["text"]}))
    bue = pd.read_csv(shared / "support_tickets_bueck" / "tickets_en_de.csv", dtype=str)
    bue = bue[bue["language"] == "en"].reset_index()
    body = bue["body"].fillna("").str.replace("\\n", "\n", regex=False).str.slice(0, 700)
    text = (bue["subject"].fillna("") + "\n" + body).str.strip()
    parts.append(pd.DataFrame({"key": bue["index"].astype(str), "source": "bueck", "text": text}))
    parts.append(ibm_first_messages(shared))
    out = pd.concat(parts, ignore_index=True).dropna(subset=["text"])
    out["id"] = out["source"] + ":" + out["key"]
    return out.drop_duplicates("id")[["id", "source", "text"]].reset_index(drop=True)


def ibm_first_messages(shared: Path = SHARED) -> pd.DataFrame:
    """The first customer turn of each IBM customer-care conversation (``dev.json``; AppleSupport left out)."""
    rows = []
    for dialog in json.loads((shared / "ibm_twitter_cdp" / "dev.json").read_text(encoding="utf-8")):
        company = dialog.get("dialogHeader", {}).get("company", "")
        if company == "AppleSupport":
            continue
        first = next((t for t in dialog.get("dialogContent", []) if "client" in t and t.get("message")), None)
        if first is not None:
            rows.append({"key": dialog["dialogHeader"]["sessionID"], "source": "ibm", "text": first["message"],
                         "company": company})
    return pd.DataFrame(rows)


def write_sample(shared: Path = SHARED) -> Path:
    pool = candidates(shared)
    pool = pool[pool["text"].str.strip().str.len() >= 12]
    picked = [g.sample(n=min(PER_SOURCE[s], len(g)), random_state=SEED) for s, g in pool.groupby("source")]
    sample = pd.concat(picked).sample(frac=1.0, random_state=SEED)[["id", "source"]]
    DEV_DIR.mkdir(parents=True, exist_ok=True)
    path = DEV_DIR / "sample_ids.csv"
    write_csv(sample, path)
    return path


def messages(shared: Path = SHARED) -> pd.DataFrame:
    """The dev-set messages in sample order: ``id``, ``source``, ``text``."""
    ids = pd.read_csv(DEV_DIR / "sample_ids.csv", dtype=str)
    pool = candidates(shared).set_index("id")
    missing = sorted(set(ids["id"]) - set(pool.index))
    if missing:
        raise SystemExit(f"{len(missing)} dev-set ids are not in {shared} (first: {missing[0]})")
    return ids.assign(text=pool.loc[ids["id"], "text"].to_numpy())


def labels() -> pd.DataFrame:
    """``id``, ``source``, ``text`` and both annotators' ``primary_a``/``secondary_a``/``primary_b``/``secondary_b``."""
    out = messages()
    for who in ("a", "b"):
        lab = pd.read_csv(DEV_DIR / f"labels_{who}.csv", dtype=str).set_index("id")
        out[f"primary_{who}"] = lab.loc[out["id"], "primary"].to_numpy()
        out[f"secondary_{who}"] = lab.loc[out["id"], "secondary"].fillna("").to_numpy()
    return out


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--write-sample", action="store_true")
    ap.add_argument("--messages", help="write id, source, text to this CSV (for annotators)")
    args = ap.parse_args(argv)
    if args.write_sample:
        print(write_sample(), file=sys.stderr)
    if args.messages:
        write_csv(messages(), args.messages)
    return 0


if __name__ == "__main__":
    sys.exit(main())
