"""Benchmark: ``cxlens topics discover`` on 50,000 real customer tweets (target <= 10 min on 2 cores).

    python benchmarks/bench_topics.py --n 50000 --encoder minilm --threads 2

The corpus is built from the real customer tweets in ``../shared/data``: the 15,096 tweets to
SpotifyCares (twcs) and the 11,756 tweets to US airlines (twitter_airline_sentiment): 26,852 in
all.  Fewer than ``--n``, so the rest are *duplicates with variation* of those tweets (one word
dropped, two neighbouring words swapped, a short follow-up phrase appended), so that no text
repeats exactly (a batch encodes each distinct text once; exact duplicates would be free).

Phases, each timed in this one run by the job's progress callback:
  read      read and filter the CSV the benchmark wrote
  encode    the encoder over every message (the encoder named, fitted first if it needs it)
  cluster   TopicModel.fit: clustering, outliers, ids, keywords, representatives
  write     topics.csv, assignments.parquet, trends.csv, emerging.csv, the model folder
``--fit-only`` times ``TopicModel.fit`` alone at sizes where encoding on 2 cores would take hours
(500,000 messages): the texts and MiniLM vectors cached by ``bench_topics_quality.py`` (BANKING77,
airline complaints, SpotifyCares, example archive: 21,446 real texts) are repeated up to ``--n``, each
repeat a varied duplicate of the text and its vector plus small noise (normalised), so no two rows
are identical.  Topic names still embed their candidate phrases with MiniLM.

    python benchmarks/bench_topics.py --fit-only --n 500000 --threads 2

Peak memory is the process's max RSS and ``cpu_s`` its user + system CPU time (resource.getrusage),
for the whole run; on a shared machine ``cpu_s / threads`` is a floor for the idle-machine wall time.  ``--threads``
pins the process to that many CPUs and caps the BLAS/OpenMP pools.  The CSV and the outputs go
to benchmarks/_data/ (git-ignored).
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
SHARED = HERE.parent.parent / "shared" / "data"
FOLLOW_UPS = ("any update?", "please help", "still waiting", "thanks", "again today", "this is so annoying",
              "can you check", "same issue here")


def real_tweets() -> "pd.DataFrame":
    import pandas as pd

    spotify = pd.read_csv(SHARED / "twcs" / "spotifycares_support_requests.csv", dtype=str)
    spotify = spotify[spotify["text"].notna()]
    spotify_time = pd.to_datetime(spotify["created_at"], format="%a %b %d %H:%M:%S %z %Y", utc=True)
    airline = pd.read_csv(SHARED / "twitter_airline_sentiment" / "train.csv", dtype=str)
    airline = airline[airline["text"].notna()]
    airline_time = pd.to_datetime(airline["tweet_created"], format="%Y-%m-%d %H:%M:%S %z", utc=True)
    return pd.concat([
        pd.DataFrame({"text": spotify["text"].to_numpy(), "created_at": spotify_time.to_numpy(), "source": "twcs"}),
        pd.DataFrame({"text": airline["text"].to_numpy(), "created_at": airline_time.to_numpy(), "source": "airline"}),
    ], ignore_index=True)


def vary(text: str, rng) -> str:
    """A near-duplicate: drop one word, swap two neighbours, append a follow-up."""
    words = text.split()
    if len(words) > 3:
        del words[int(rng.integers(1, len(words)))]
    if len(words) > 3:
        i = int(rng.integers(1, len(words) - 1))
        words[i], words[i + 1] = words[i + 1], words[i]
    return " ".join(words) + " " + FOLLOW_UPS[int(rng.integers(len(FOLLOW_UPS)))]


def corpus(n: int, seed: int) -> tuple["pd.DataFrame", int]:
    import numpy as np
    import pandas as pd

    real = real_tweets()
    n_real = len(real)
    if n <= n_real:
        return real.sample(n=n, random_state=seed).reset_index(drop=True), n_real
    rng = np.random.default_rng(seed)
    extra = real.sample(n=n - n_real, replace=n - n_real > n_real, random_state=seed).copy()
    extra["text"] = [vary(t, rng) for t in extra["text"]]
    extra["source"] = extra["source"] + "-varied"
    frame = pd.concat([real, extra], ignore_index=True)
    # vary once more where a variation happened to repeat a text
    dup = frame["text"].duplicated()
    frame.loc[dup, "text"] = [vary(t, rng) + " " + str(i) for i, t in zip(frame.index[dup], frame.loc[dup, "text"])]
    return frame, n_real


def cached_corpus(n: int, seed: int) -> tuple[list[str], "np.ndarray"]:
    """``n`` texts and vectors from the quality benchmark's cache, repeated with variation."""
    import numpy as np

    sys.path.insert(0, str(HERE))
    from bench_topics_quality import CACHE, corpus

    texts, vecs = [], []
    for name in ("banking77", "airline", "spotify", "example"):
        path = CACHE / f"{'spotify3000' if name == 'spotify' else name}.npy"
        if not path.exists():
            sys.exit(f"{path} is missing: run benchmarks/bench_topics_quality.py (and --names) first")
        texts += corpus(name)[0]
        vecs.append(np.load(path, allow_pickle=False))
    base = np.vstack(vecs).astype(np.float32)
    rng = np.random.default_rng(seed)
    pick = np.concatenate([np.arange(len(texts)), rng.integers(0, len(texts), size=max(0, n - len(texts)))])[:n]
    x = base[pick]
    extra = np.arange(n) >= len(texts)
    x[extra] += rng.normal(scale=0.02, size=(int(extra.sum()), x.shape[1])).astype(np.float32)
    out = [texts[i] if not e else vary(texts[i], rng) for i, e in zip(pick, extra)]
    return out, x / np.linalg.norm(x, axis=1, keepdims=True)


def fit_only(args) -> None:
    from threadpoolctl import threadpool_limits

    from cxlens.nlp.topics import TopicModel
    from cxlens.pipelines.topics import topic_encoder

    texts, x = cached_corpus(args.n, args.seed)
    start = time.perf_counter()
    with threadpool_limits(limits=args.threads):
        model = TopicModel(encoder=topic_encoder("minilm", []), random_state=args.seed).fit(texts, embeddings=x)
    total = time.perf_counter() - start
    usage = resource.getrusage(resource.RUSAGE_SELF)
    print(json.dumps({
        "messages": len(texts), "threads": args.threads, "method": model.method_, "topics": int(len(model.topics_)),
        "top_level": int(model.topics_["parent_id"].nunique()), "outlier_share": round(model.outlier_share_, 4),
        "fit_s": round(total, 1), "cpu_s": round(usage.ru_utime + usage.ru_stime, 1),
        "peak_rss_gb": round(usage.ru_maxrss / 1024 ** 2, 2), "vectors_gb": round(x.nbytes / 1024 ** 3, 2),
        "load_avg_1min": round(os.getloadavg()[0], 1),
        "top_level_names": model.topics_.drop_duplicates("parent_id")["parent"].head(12).tolist(),
    }, indent=2, ensure_ascii=False))


def pin_threads(threads: int) -> None:
    for var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
        os.environ[var] = str(threads)
    if hasattr(os, "sched_setaffinity"):
        cpus = sorted(os.sched_getaffinity(0))[:threads]
        os.sched_setaffinity(0, cpus)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--n", type=int, default=50_000)
    parser.add_argument("--encoder", default="minilm", help="minilm (ONNX int8 when available), tfidf, ...")
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--out", type=Path, default=HERE / "_data" / "topics")
    parser.add_argument("--fit-only", action="store_true",
                        help="time TopicModel.fit alone on cached vectors (see the module docstring)")
    args = parser.parse_args()
    pin_threads(args.threads)
    if not SHARED.is_dir():
        sys.exit(f"needs the public data in {SHARED}")
    if args.fit_only:
        fit_only(args)
        return

    from threadpoolctl import threadpool_limits

    from cxlens.pipelines.topics import discover_topics

    args.out.mkdir(parents=True, exist_ok=True)
    frame, n_real = corpus(args.n, args.seed)
    data = args.out / f"tweets_{args.n}.csv"
    frame.to_csv(data, index=False)

    marks: dict[str, list[float]] = {}

    def progress(step: str, done: int, total: int) -> None:
        marks.setdefault(step, []).append(time.perf_counter())

    start = time.perf_counter()
    with threadpool_limits(limits=args.threads):
        result = discover_topics(data, text_col="text", out=args.out / "run", time_col="created_at", period="week",
                                 encoder=args.encoder, progress=progress)
    total = time.perf_counter() - start
    phase = {}
    order = ["read", "encode", "cluster", "write"]
    for i, step in enumerate(order):
        begin = marks[order[i - 1]][-1] if i else start
        phase[f"{step}_s"] = round(marks[step][-1] - begin, 1)
    summary = result["summary"]
    model = result["model"]
    usage = resource.getrusage(resource.RUSAGE_SELF)
    out = {
        "messages": len(frame), "real_tweets": n_real, "varied_duplicates": max(0, len(frame) - n_real),
        "encoder": summary["encoder"],
        "encoder_backend": getattr(getattr(model, "encoder_", None), "backend_", None),
        "threads": args.threads, "cpus_visible": os.cpu_count(), "method": summary["method"],
        "topics": summary["topics"], "top_level": summary.get("top_level"), "outlier_share": summary["outlier_share"],
        **phase,
        "total_s": round(total, 1), "messages_per_s": round(len(frame) / total, 1),
        "cpu_s": round(usage.ru_utime + usage.ru_stime, 1),
        "peak_rss_gb": round(usage.ru_maxrss / 1024 ** 2, 2),
        "load_avg_1min": round(os.getloadavg()[0], 1), "labels": summary["labels"][:8],
    }
    print(json.dumps(out, indent=2, ensure_ascii=False))


if __name__ == "__main__":
    main()
