"""Sentiment: accuracy of the shipped model and the lexicon floor, and their speed.

    python benchmarks/bench_sentiment.py --data-dir ../shared/data [--speed-n 1000] [--out FILE.json]

"model" is what ``score_sentiment`` returns (``model.annotate``: language rule, support-phrase rule, emoji via
the lexicon); "model_head_only" is the head's argmax on every text (the same classifier with
``support_rules=False, lexicon_for_no_letters=False``; an empty text is neutral).

* TweetEval sentiment validation split (official metric: macro-averaged recall), read line
  by line. The shipped model never saw these tweets (their ids are dropped from training).
* Airline tweets (CC BY-NC-SA, evaluation only): accuracy and macro-F1.
* Speed: mentions/s end to end through :func:`cxlens.nlp.sentiment._model.score_sentiment`
  (language detection, encoding, head, rules) for the model and for the
  lexicon (``fast=True``), on the first ``--speed-n`` airline tweets. On a shared CPU the
  speed varies from run to run; the host's load average is recorded beside it.

``--encoder minilm-l2`` runs the same head on the distilled student encoder.
``--embeddings-cache DIR`` reuses encoder vectors saved by ``train_sentiment.py`` for the
accuracy part (the speed part always encodes).
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from train_sentiment import (  # noqa: E402
    LABELS,
    airline_tweets,
    encode_cached,
    head_only,
    tweeteval_val,
    with_vectors,
)


def _metrics(gold, pred) -> dict:
    from sklearn.metrics import accuracy_score, f1_score, recall_score

    return {"macro_recall": round(100 * recall_score(gold, pred, labels=list(LABELS), average="macro"), 2),
            "accuracy": round(100 * accuracy_score(gold, pred), 2),
            "macro_f1": round(100 * f1_score(gold, pred, labels=list(LABELS), average="macro"), 2)}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--data-dir", default=str(Path(__file__).resolve().parents[2] / "shared" / "data"))
    parser.add_argument("--model", default=None, help="model folder (default: the shipped one)")
    parser.add_argument("--encoder", default=None,
                        help="run the model's head on this encoder instead (e.g. minilm-l2, the distilled student)")
    parser.add_argument("--embeddings-cache", default=None, metavar="DIR")
    parser.add_argument("--speed-n", type=int, default=1000)
    parser.add_argument("--out", default=None, metavar="FILE")
    args = parser.parse_args(argv)

    from cxlens.nlp.sentiment import LexiconSentiment
    from cxlens.nlp.sentiment import load_sentiment_model, score_sentiment

    data_dir = Path(args.data_dir)
    cache = Path(args.embeddings_cache) if args.embeddings_cache else None
    model = load_sentiment_model(args.model, encoder=args.encoder)
    results: dict = {}
    for name, (texts, gold) in {"tweeteval_val": tweeteval_val(data_dir),
                                "airline": airline_tweets(data_dir)}.items():
        # the normalised texts with the vectors of the model's (shared) encoder; a tuned model reads its own
        batch = with_vectors(texts, encode_cached(texts, name="val" if name == "tweeteval_val" else name,
                                                  cache=cache, encoder=model.encoder), model.encoder)
        head_pred = head_only(model).predict(batch)
        scored = score_sentiment(batch, model=model)
        results[name] = {
            "n": len(texts),
            "model": _metrics(gold, scored["sentiment"].to_numpy()),
            "model_head_only": _metrics(gold, head_pred),
            "model_flags": {str(k): int(v) for k, v in scored["sentiment_flag"].value_counts().items()},
            "lexicon_vader_fixes": _metrics(gold, LexiconSentiment().predict(texts)),
            "lexicon_vader_plain": _metrics(gold, LexiconSentiment(fixes=False).predict(texts)),
        }
    speed_texts = airline_tweets(data_dir)[0][:args.speed_n]
    encoder = model.text_encoder()  # the model's own encoder (a tuned model has one); encoders keep no vectors
    encoder.encode(["warm up"])
    # steady state: the language detector of each script is built on its first post (a one-time cost per
    # process, most of the time of a small sample), so both paths are timed after one untimed lexicon pass
    score_sentiment(speed_texts, fast=True)
    t0 = time.perf_counter()
    score_sentiment(speed_texts, model=model)
    model_s = time.perf_counter() - t0
    t0 = time.perf_counter()
    score_sentiment(speed_texts, fast=True)
    lexicon_s = time.perf_counter() - t0
    results["speed"] = {"n": len(speed_texts), "model_mentions_per_s": round(len(speed_texts) / model_s, 1),
                        "lexicon_mentions_per_s": round(len(speed_texts) / lexicon_s, 1),
                        "encoder_backend": getattr(encoder, "backend_", None),
                        "cpus": len(os.sched_getaffinity(0)), "load_average_1m": round(os.getloadavg()[0], 2)}
    text = json.dumps(results, indent=2)
    sys.stdout.write(text + "\n")
    if args.out:
        Path(args.out).write_text(text + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
