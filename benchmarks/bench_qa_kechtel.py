"""Script-QA step detection on real agent replies (Kechtel et al.'s labelled TWCS tweets) and its speed.

Data: ``../shared/data/twcs/kechtel_ericsson`` (labeled/*-outbound.csv: 100 agent tweets per brand with
multi-label activities; topics-activities/*-outbound-activities.csv: the activity definitions).

Protocol, per brand and per seeded split (default 10 splits):

* the tweets are split 50/50 into an *example split* and a *test split*;
* the scorecard is built from the definitions: one step per activity, description = the activity name
  and the authors' NLI hypothesis, rule = the authors' keyword, examples = at most 5 positive tweets
  drawn from the example split;
* thresholds (and whether the keyword rule helps) are tuned on the example split only
  (:meth:`StepDetector.fit` with its labels; the example tweets are compared leave-one-out);
* micro-F1 (pooled over every tweet x step) and macro-F1 (mean over the steps with a positive in the
  test split) are measured on the test split.

Reported: mean and sd over the splits, for the combined detector and for rules only / semantics only.
Speed: agent messages/s through ``StepDetector.detect`` for a 10-step scorecard (the SpotifyCares one),
uncached encoder, every distinct outbound tweet we have (labelled, preprocessed, TWCS sample), scored
``--speed-repeat`` times in separate calls, so every message is encoded every time (within one call a
repeated text is encoded once, which would time cache hits, not encoding).

    python benchmarks/bench_qa_kechtel.py [--encoder minilm] [--splits 10] [--bitext] [--out results.json]
    python benchmarks/bench_qa_kechtel.py --side inbound --speed-repeat 0   # customer topics, same protocol

``--plain DIR`` (issue 22) scores the scorecards written in plain words (``DIR/plain_<brand>.yaml``: a
description and at most 3 example replies per step, written by us from the published activity definitions; no
keywords, no labels) on all 100 labelled replies per brand, thresholds calibrated from the scorecard's own
examples; ``--tune`` adds ``cxlens scorecard tune``'s protocol: per seeded split, tune on at most 20 positive
replies per step (and 20 with no step), measure on the others (mean ± sd over ``--splits``).

    python benchmarks/bench_qa_kechtel.py --plain benchmarks/data/scorecards --tune --splits 10 --speed-repeat 0
    python benchmarks/bench_qa_kechtel.py --plain benchmarks/data/scorecards --acts off --compete none  # ablation

The same measurements of the committed code (before/after on one machine): ``benchmarks/run_at_commit.py``.
``--speed-only`` runs the speed test alone, ``--speed-scorecard FILE`` times that scorecard instead:

    python benchmarks/bench_qa_kechtel.py --encoder minilm-l2 --speed-only --speed-repeat 3 \
        --speed-scorecard benchmarks/data/scorecards/plain_spotifycares.yaml

``--bitext`` adds the reply-vs-reference check on ``../shared/data/bitext``: 20 replies per intent
as references, 10 other replies per intent held out; top-1 = a held-out reply is closest to its
own intent's references.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd

from cxlens.nlp.qa import scorecard_from_dict
from cxlens.nlp.qa import StepDetector

DATA = Path(__file__).resolve().parents[1].parent / "shared" / "data" / "twcs" / "kechtel_ericsson"
BRANDS = ("AmazonHelp", "SpotifyCares")


def slug(name: str) -> str:
    return re.sub(r"[^a-z0-9]+", "_", name.lower()).strip("_")


def keyword_regex(keyword: str) -> str:
    keyword = keyword.strip().lower()
    return (r"\b" if keyword[:1].isalnum() else "") + re.escape(keyword)


def load_brand(brand: str, side: str = "outbound") -> tuple[pd.DataFrame, pd.DataFrame, list[str]]:
    """Labelled tweets and their definitions: agent activities (outbound) or customer topics (inbound)."""
    if side == "inbound":
        tweets = pd.read_csv(DATA / "labeled" / f"twcs-{brand}-200-inbound.csv")
        defs = pd.read_csv(DATA / "topics-activities" / f"twcs-{brand}-inbound-topics.csv")
        defs = defs.rename(columns={"Topic": "Activity"})
    else:
        tweets = pd.read_csv(DATA / "labeled" / f"twcs-{brand}-100-outbound.csv")
        defs = pd.read_csv(DATA / "topics-activities" / f"twcs-{brand}-outbound-activities.csv")
    by_lower = {c.lower(): c for c in tweets.columns}
    defs = defs[defs["Activity"].str.lower().isin(by_lower)].reset_index(drop=True)
    label_cols = [by_lower[a.lower()] for a in defs["Activity"]]
    return tweets, defs, label_cols


def build_scorecard(brand: str, defs: pd.DataFrame, label_cols: list[str], texts: list[str], y: np.ndarray,
                    example_rows: np.ndarray, rng: np.random.Generator, *, rules: bool = True) -> dict:
    steps = []
    for j, row in defs.iterrows():
        positives = [i for i in example_rows if y[i, j]]
        chosen = rng.permutation(positives)[:5] if positives else []
        step = {"id": slug(row["Activity"]),
                "description": f"{row['Activity']}. {row['Label']}",
                "examples": [texts[i] for i in chosen],
                "required": False}
        if rules:
            step["regexes"] = [keyword_regex(str(row["Keyword"]))]
        steps.append(step)
    return {"name": f"kechtel_{brand.lower()}", "steps": steps}


def f1(y: np.ndarray, p: np.ndarray) -> float:
    tp = float((y & p).sum())
    denom = 2 * tp + float((~y & p).sum()) + float((y & ~p).sum())
    return 2 * tp / denom if denom else float("nan")


def evaluate_brand(brand: str, encoder, *, splits: int, granularity: str, side: str = "outbound", **params) -> dict:
    tweets, defs, label_cols = load_brand(brand, side)
    texts = tweets["text"].astype(str).tolist()
    y = tweets[label_cols].fillna(0).astype(bool).to_numpy()
    results: dict[str, list] = {"combined": [], "rules": [], "semantic": []}
    per_step: dict[str, list[float]] = {slug(a): [] for a in defs["Activity"]}
    for seed in range(splits):
        rng = np.random.default_rng(seed)
        order = rng.permutation(len(texts))
        dev, test = np.sort(order[: len(texts) // 2]), np.sort(order[len(texts) // 2:])
        for variant in results:
            card_rng = np.random.default_rng(seed)
            card = scorecard_from_dict(build_scorecard(brand, defs, label_cols, texts, y, dev, card_rng,
                                                       rules=variant != "semantic"), source=f"{brand}.yaml")
            det = StepDetector(scorecard=card, encoder=None if variant == "rules" else encoder, granularity=granularity,
                               **params)
            labels = pd.DataFrame(y[dev], columns=[s.id for s in card.scripts[0].steps])
            det.fit([texts[i] for i in dev], labels)
            pred = det.predict([texts[i] for i in test]).to_numpy()
            yt = y[test]
            has = yt.any(0)
            step_f1 = np.array([f1(yt[:, j], pred[:, j]) for j in range(yt.shape[1])])
            results[variant].append({"micro": f1(yt[:, has], pred[:, has]), "macro": float(np.nanmean(step_f1[has]))})
            if variant == "combined":
                for j, a in enumerate(per_step):
                    if has[j]:
                        per_step[a].append(step_f1[j])
    out = {"brand": brand, "steps": len(label_cols), "tweets": len(texts), "splits": splits}
    for variant, rows in results.items():
        micro = [r["micro"] for r in rows]
        macro = [r["macro"] for r in rows]
        out[variant] = {"micro_f1": round(float(np.mean(micro)), 3), "micro_sd": round(float(np.std(micro)), 3),
                        "macro_f1": round(float(np.mean(macro)), 3), "macro_sd": round(float(np.std(macro)), 3)}
    out["per_step_f1"] = {a: round(float(np.mean(v)), 3) if v else None for a, v in per_step.items()}
    return out


def _step_ids(card, defs: pd.DataFrame) -> list[str]:
    ids = [slug(a) for a in defs["Activity"]]
    known = {s.id for s in card.scripts[0].steps}
    missing = [i for i in ids if i not in known]
    if missing:
        raise SystemExit(f"{card.source}: no step for the activities {missing}")
    return ids


def evaluate_plain(brand: str, folder: Path, encoder, *, tune_splits: int = 0, granularity: str = "sentence",
                   tune_params: dict | None = None, **params) -> dict:
    """A plain-words scorecard on every labelled reply (no labels used), and optionally tuned on a few labels."""
    from cxlens.nlp.qa import load_scorecard

    tweets, defs, label_cols = load_brand(brand)
    texts = tweets["text"].astype(str).tolist()
    y = tweets[label_cols].fillna(0).astype(bool).to_numpy()
    card = load_scorecard(folder / f"plain_{brand.lower()}.yaml")
    ids = _step_ids(card, defs)
    det = StepDetector(scorecard=card, encoder=encoder, granularity=granularity, **params).fit()
    found = det.predict(texts)[[f"{card.scripts[0].id}/{i}" for i in ids]].to_numpy()
    step_f1 = {i: round(f1(y[:, j], found[:, j]), 3) for j, i in enumerate(ids)}
    out = {"brand": brand, "scorecard": str(card.source), "steps": len(ids), "tweets": len(texts),
           "macro_f1": round(float(np.nanmean(list(step_f1.values()))), 3),
           "micro_f1": round(f1(y, found), 3), "per_step_f1": step_f1}
    if tune_splits:
        from cxlens.nlp.qa import tune_scorecard

        labels = pd.DataFrame(y, columns=ids)
        macros, tuned_on, per_step = [], [], {i: [] for i in ids}
        for seed in range(tune_splits):
            _, report = tune_scorecard(card, texts, labels, encoder=encoder, per_step=20, seed=seed,
                                       granularity=granularity, **(tune_params or {}), **params)
            macros.append(float(report["f1"].mean()))  # steps with no held-out positive and no false alarm: nan
            tuned_on.append(int(report["tuned_on"].max()))
            for r in report.itertuples():
                if r.f1 == r.f1:
                    per_step[r.step].append(r.f1)
        out["tuned"] = {"splits": tune_splits, "max_positives_per_step": max(tuned_on),
                        "macro_f1": round(float(np.mean(macros)), 3), "macro_sd": round(float(np.std(macros)), 3),
                        "per_step_f1": {k: round(float(np.mean(v)), 3) if v else None for k, v in per_step.items()}}
    return out


def agent_tweets() -> list[str]:
    texts = []
    for path in sorted((DATA / "labeled").glob("*-outbound.csv")):
        texts += pd.read_csv(path)["text"].astype(str).tolist()
    for path in sorted((DATA / "preprocessed").glob("*.csv")):
        frame = pd.read_csv(path)
        texts += frame.loc[~frame["inbound"].astype(bool), "text"].astype(str).tolist()
    sample = DATA.parent / "sample.csv"
    if sample.is_file():
        frame = pd.read_csv(sample)
        texts += frame.loc[~frame["inbound"].astype(bool), "text"].astype(str).tolist()
    return list(dict.fromkeys(texts))


def speed(encoder_name: str, *, granularity: str, repeat: int, scorecard: str | None = None) -> dict:
    from cxlens.nlp.encoders import default_num_threads, get_encoder

    encoder = get_encoder(encoder_name)
    tweets, defs, label_cols = load_brand("SpotifyCares")
    texts = tweets["text"].astype(str).tolist()
    y = tweets[label_cols].fillna(0).astype(bool).to_numpy()
    card = scorecard_from_dict(build_scorecard("SpotifyCares", defs, label_cols, texts, y, np.arange(len(texts)),
                                               np.random.default_rng(0)), source="speed.yaml")
    if scorecard:
        from cxlens.nlp.qa import load_scorecard

        card = load_scorecard(scorecard)
    det = StepDetector(scorecard=card, encoder=encoder, granularity=granularity).fit()
    distinct = agent_tweets()
    det.detect(distinct[:64])  # warm-up: model load, first batches
    load_before = os.getloadavg()[0]
    # One detect() call per pass: inside a call a repeated text is encoded once, so scoring the list
    # repeated in one call would time mostly repeats. Encoders keep no vectors between calls.
    elapsed = 0.0
    for _ in range(repeat):
        start = time.perf_counter()
        det.detect(distinct)
        elapsed += time.perf_counter() - start
    batch = distinct * repeat
    # the same run with every sentence vector already cached: what the detector costs besides the encoder
    cached = StepDetector(scorecard=card, encoder=encoder_name, granularity=granularity).fit()
    cached.detect(batch)
    start = time.perf_counter()
    cached.detect(batch)
    overhead = time.perf_counter() - start
    return {"encoder": encoder_name, "backend": getattr(encoder, "backend_", None), "steps": len(card.scripts[0].steps),
            "messages": len(batch), "seconds": round(elapsed, 2), "messages_per_s": round(len(batch) / elapsed, 1),
            "without_encoder_messages_per_s": round(len(batch) / overhead, 1),
            "threads": default_num_threads(), "cpus": os.cpu_count(), "load_average": round(load_before, 1),
            "granularity": granularity}


def reference_eval(encoder: str, *, granularity: str) -> dict:
    """Reply-vs-reference on Bitext: 20 replies per intent as references, 10 others per intent held out;
    is a held-out reply closest to its own intent's references?"""
    from cxlens.nlp.qa import ReferenceReplies, load_reference_replies

    refs = load_reference_replies(DATA.parents[1] / "bitext" / "bitext_customer_support.csv")
    shuffled = refs.sample(frac=1.0, random_state=1)
    fit = shuffled.groupby("intent").head(20)
    held = shuffled.drop(fit.index).groupby("intent").head(10)
    model = ReferenceReplies(encoder=encoder, granularity=granularity).fit(fit["intent"], fit["response"])
    sims = model.similarity_matrix(held["response"].tolist())
    own = sims[np.arange(len(held)), model.classes_.searchsorted(held["intent"])]
    other = (sims.sum(1) - own) / (sims.shape[1] - 1)
    return {"held_out": len(held), "intents": len(model.classes_), "granularity": granularity,
            "top1": round(float(np.mean(model.classes_[sims.argmax(1)] == held["intent"].to_numpy())), 3),
            "own_similarity": round(float(own.mean()), 3), "other_similarity": round(float(other.mean()), 3)}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--encoder", default="minilm")
    parser.add_argument("--splits", type=int, default=10)
    parser.add_argument("--granularity", default="sentence", choices=("sentence", "message"))
    parser.add_argument("--speed-repeat", type=int, default=3, help="how many times the tweet set is scored (0: skip)")
    parser.add_argument("--bitext", action="store_true", help="also evaluate reply-vs-reference on Bitext")
    parser.add_argument("--side", choices=("outbound", "inbound"), default="outbound",
                        help="outbound: agent activities (script steps); inbound: customer topics (multi-label "
                             "topics from descriptions + 5 examples each, the text-understanding benchmark)")
    parser.add_argument("--plain", metavar="DIR", help="score the plain-words scorecards plain_<brand>.yaml in DIR")
    parser.add_argument("--tune", action="store_true", help="with --plain: tune on <= 20 labelled replies per step")
    parser.add_argument("--learn-phrases", action="store_true",
                        help="with --tune: also learn phrases from the tuning replies (scorecard tune --learn-phrases)")
    parser.add_argument("--acts", choices=("auto", "off"), help="StepDetector(acts=...) (default: the detector's)")
    parser.add_argument("--compete", help="StepDetector(compete=...): a margin, or none (default: the detector's)")
    parser.add_argument("--speed-only", action="store_true", help="only the speed test")
    parser.add_argument("--speed-scorecard", metavar="FILE",
                        help="time this scorecard (e.g. a plain-words one) instead of the SpotifyCares keyword one")
    parser.add_argument("--out", help="write the results as JSON here")
    args = parser.parse_args(argv)
    params = {} if args.acts is None else {"acts": args.acts}   # only what is asked for: an older detector runs too
    if args.compete is not None:
        params["compete"] = None if args.compete.lower() == "none" else float(args.compete)
    if not DATA.is_dir():
        sys.stderr.write(f"data not found at {DATA}\n")
        return 2
    from cxlens.nlp.encoders import get_encoder

    encoder = get_encoder(args.encoder)
    if args.speed_only:
        s = speed(args.encoder, granularity=args.granularity, repeat=args.speed_repeat or 3,
                  scorecard=args.speed_scorecard)
        sys.stdout.write(json.dumps(s) + "\n")
        return 0
    if args.plain:
        report = {"encoder": args.encoder, "granularity": args.granularity, "detector": params,
                  "plain": [evaluate_plain(b, Path(args.plain), encoder, tune_splits=args.splits if args.tune else 0,
                                           granularity=args.granularity,
                                           tune_params={"learn_phrases": True} if args.learn_phrases else None,
                                           **params) for b in BRANDS]}
        for b in report["plain"]:
            sys.stdout.write(f"{b['brand']} plain words ({b['scorecard']}): macro-F1 {b['macro_f1']:.3f}, micro-F1 "
                             f"{b['micro_f1']:.3f} on {b['tweets']} replies\n  per step: "
                             + ", ".join(f"{k} {v}" for k, v in b["per_step_f1"].items()) + "\n")
            if "tuned" in b:
                t = b["tuned"]
                sys.stdout.write(f"  tuned (<= {t['max_positives_per_step']} positives per step, {t['splits']} splits): "
                                 f"held-out macro-F1 {t['macro_f1']:.3f} ± {t['macro_sd']:.3f}\n  per step: "
                                 + ", ".join(f"{k} {v}" for k, v in t["per_step_f1"].items()) + "\n")
        if args.out:
            Path(args.out).write_text(json.dumps(report, indent=2), encoding="utf-8")
        return 0
    report = {"encoder": args.encoder, "granularity": args.granularity, "side": args.side,
              "brands": [evaluate_brand(b, encoder, splits=args.splits, granularity=args.granularity, side=args.side,
                                        **params) for b in BRANDS]}
    for b in report["brands"]:
        c = b["combined"]
        sys.stdout.write(f"{b['brand']}: {b['steps']} steps, {b['splits']} splits | combined micro-F1 "
                         f"{c['micro_f1']:.3f} ± {c['micro_sd']:.3f}, macro-F1 {c['macro_f1']:.3f} ± {c['macro_sd']:.3f} | "
                         f"rules only macro {b['rules']['macro_f1']:.3f} | semantic only macro "
                         f"{b['semantic']['macro_f1']:.3f}\n")
        sys.stdout.write("  per step: " + ", ".join(f"{k} {v}" for k, v in b["per_step_f1"].items()) + "\n")
    if args.speed_repeat:
        report["speed"] = speed(args.encoder, granularity=args.granularity, repeat=args.speed_repeat)
        s = report["speed"]
        sys.stdout.write(f"speed: {s['messages_per_s']} agent messages/s ({s['messages']} messages, {s['steps']} steps, "
                         f"{s['encoder']} {s['backend']}, {s['threads']} threads, {s['granularity']}; load average "
                         f"{s['load_average']} on {s['cpus']} CPUs); without the encoder (cached vectors): "
                         f"{s['without_encoder_messages_per_s']} messages/s\n")
    if args.bitext:
        report["references"] = r = reference_eval(args.encoder, granularity=args.granularity)
        sys.stdout.write(f"references (Bitext, {r['granularity']}): {r['held_out']} held-out replies, {r['intents']} "
                         f"intents: top-1 {r['top1']:.3f}; similarity to own intent {r['own_similarity']:.3f} vs "
                         f"others {r['other_similarity']:.3f}\n")
    if args.out:
        Path(args.out).write_text(json.dumps(report, indent=2), encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
