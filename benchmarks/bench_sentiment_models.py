"""Speed of sentiment models through ``score_sentiment`` on the same airline tweets, interleaved in one process.

    python benchmarks/bench_sentiment_models.py --n 3000 --rounds 3   # the speed row of docs/benchmarks.md, issue 4

Models: ``frozen`` (the head on frozen MiniLM vectors), ``frozen`` run on the student (``minilm-l2``), and
``tuned`` (the fine-tuned student). Encoders keep no vectors, so every round encodes every text; the
lexicon path is timed in every round too. The median round is reported.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))


def main() -> None:
    from train_sentiment import airline_tweets

    from cxlens.nlp.sentiment import load_sentiment_model, score_sentiment

    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--data-dir", default=str(HERE.parents[1] / "shared" / "data"))
    parser.add_argument("--n", type=int, default=3000)
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    texts = airline_tweets(Path(args.data_dir))[0][:args.n]
    models = {"frozen": load_sentiment_model("frozen"), "frozen_on_minilm-l2": load_sentiment_model(
        "frozen", encoder="minilm-l2"), "tuned": load_sentiment_model("tuned")}
    score_sentiment(texts, fast=True)  # the language detectors are built once per process
    for model in models.values():
        model.text_encoder().encode(["warm up"])
    rates: dict[str, list[float]] = {name: [] for name in [*models, "lexicon"]}
    for _ in range(args.rounds):
        for name, model in models.items():
            started = time.perf_counter()
            score_sentiment(texts, model=model)
            rates[name].append(round(len(texts) / (time.perf_counter() - started), 1))
        started = time.perf_counter()
        score_sentiment(texts, fast=True)
        rates["lexicon"].append(round(len(texts) / (time.perf_counter() - started), 1))
    print(json.dumps({"n": len(texts), "median_mentions_per_s": {k: sorted(v)[len(v) // 2] for k, v in rates.items()},
                      "all": rates, "load_average": round(os.getloadavg()[0], 2)}))


if __name__ == "__main__":
    main()
