"""Encoder speed on tweet-length text: naive per-text transformers loop vs our torch and ONNX int8 paths.

The distilled two-layer student (``minilm-l2``, when its artifact is present) is timed in the same run.

All three run in the same process on the same texts with the same thread count, so the *ratios* are
meaningful even on a shared, noisy machine; absolute texts/s depend on what else runs.

    python benchmarks/bench_encoder.py [--n 2000] [--naive-n 300] [--threads 2] [--data ../shared/data]

Texts: unique customer tweets to @SpotifyCares (``twcs/spotifycares_support_requests.csv``, Customer
Support on Twitter), else BANKING77 queries. Every text is distinct, and encoders keep no vectors
between calls, so every pass encodes every text. Also prints the cosine
parity of ONNX int8 vs torch fp32 on the same texts.
"""

from __future__ import annotations

import argparse
import os
import time
from pathlib import Path

import numpy as np

os.environ.setdefault("HF_HUB_OFFLINE", "1")


def load_texts(data: Path, n: int, *, source: str = "tweets") -> list[str]:
    import pandas as pd

    tweets = data / "twcs" / "spotifycares_support_requests.csv"
    if source == "tweets" and tweets.is_file():
        texts = pd.read_csv(tweets)["text"].dropna().astype(str).tolist()
    else:
        texts = pd.read_csv(data / "banking77" / "train.csv")["text"].astype(str).tolist()
    texts = list(dict.fromkeys(texts))  # unique: the encoders' cache must not serve repeats
    rng = np.random.default_rng(0)
    rng.shuffle(texts)
    if len(texts) < n:
        raise SystemExit(f"only {len(texts)} unique texts; use --n {len(texts)} or less")
    return texts[:n]


def naive_loop(texts: list[str], threads: int) -> tuple[float, np.ndarray]:
    """What people write first: one text at a time, fresh tokenizer call, fp32 torch, mean pooling."""
    import torch
    from transformers import AutoModel, AutoTokenizer

    from cxlens.nlp.encoders import minilm_model_dir

    torch.set_num_threads(threads)
    path = str(minilm_model_dir())
    tok = AutoTokenizer.from_pretrained(path, local_files_only=True)
    model = AutoModel.from_pretrained(path, local_files_only=True).eval()
    out = []
    t0 = time.perf_counter()
    with torch.no_grad():
        for text in texts:
            enc = tok(text, return_tensors="pt", truncation=True, max_length=128)
            hidden = model(**enc).last_hidden_state
            m = enc["attention_mask"].unsqueeze(-1).float()
            v = (hidden * m).sum(1) / m.sum(1)
            out.append(torch.nn.functional.normalize(v, dim=1)[0].numpy())
    return time.perf_counter() - t0, np.stack(out)


def timed(encoder, texts: list[str], rounds: int = 1) -> tuple[float, np.ndarray]:
    """Seconds of one pass over ``texts`` (the median of ``rounds`` passes; encoders keep no vectors)."""
    encoder.encode(texts[:8])  # load + warm up
    times = []
    for _ in range(rounds):
        t0 = time.perf_counter()
        vecs = encoder.encode(texts)
        times.append(time.perf_counter() - t0)
    return float(np.median(times)), vecs


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--n", type=int, default=2000, help="texts for the batched encoders")
    ap.add_argument("--naive-n", type=int, default=300, help="texts for the naive loop (it is slow)")
    ap.add_argument("--threads", type=int, default=None, help="threads for every path (default: the CPUs)")
    ap.add_argument("--batch-size", type=int, default=64)
    ap.add_argument("--data", default=str(Path(__file__).resolve().parents[2] / "shared" / "data"))
    ap.add_argument("--rounds", type=int, default=1,
                    help="passes of each batched encoder over the texts; the median is reported (default 1)")
    ap.add_argument("--texts", choices=("tweets", "banking77"), default="tweets",
                    help="SpotifyCares customer tweets (default; BANKING77 when absent) or BANKING77 queries")
    args = ap.parse_args()

    from cxlens.nlp.encoders import STUDENT_DIR, student_model_dir
    from cxlens.nlp.encoders import MiniLMEncoder, default_num_threads

    threads = args.threads or default_num_threads()
    texts = load_texts(Path(args.data), args.n, source=args.texts)
    words = np.mean([len(t.split()) for t in texts])
    print(f"{len(texts)} texts, mean {words:.1f} words; threads={threads}; batch_size={args.batch_size}")

    rows = []
    # The naive loop gets its best thread count: with several threads, per-text calls on a shared,
    # oversubscribed CPU spend most of their time in thread synchronisation, which would flatter us.
    naive_rates = {}
    for th in sorted({1, threads}):
        t, naive_vecs = naive_loop(texts[:args.naive_n], th)
        naive_rates[th] = args.naive_n / t
        print(f"naive loop, {th} thread(s): {naive_rates[th]:.1f} texts/s")
    best_th = max(naive_rates, key=naive_rates.get)
    rows.append((f"naive per-text transformers loop ({best_th} thr)", naive_rates[best_th]))
    torch_enc = MiniLMEncoder(backend="torch", num_threads=threads, batch_size=args.batch_size)
    t, torch_vecs = timed(torch_enc, texts, args.rounds)
    rows.append(("MiniLMEncoder torch fp32, sorted batches", len(texts) / t))
    onnx_enc = MiniLMEncoder(backend="onnx", num_threads=threads, batch_size=args.batch_size)
    t, onnx_vecs = timed(onnx_enc, texts, args.rounds)
    rows.append(("MiniLMEncoder ONNX int8, sorted batches", len(texts) / t))
    student_vecs = None
    if (STUDENT_DIR / "student.safetensors").is_file():
        student = MiniLMEncoder(backend="onnx", num_threads=threads, batch_size=32, model_dir=student_model_dir())
        t, student_vecs = timed(student, texts, args.rounds)
        rows.append(("minilm-l2 student, ONNX int8, batches of 32", len(texts) / t))
    # naive again at the end: the machine is shared, so bracket the fast runs
    t, _ = naive_loop(texts[:args.naive_n], best_th)
    rows.append((f"naive per-text loop, repeat ({best_th} thr)", args.naive_n / t))

    naive = (rows[0][1] + rows[-1][1]) / 2
    print(f"\n{'path':45s} {'texts/s':>9s} {'x naive':>8s}")
    for name, rate in rows:
        print(f"{name:45s} {rate:9.1f} {rate / naive:8.2f}")
    cos_onnx = (onnx_vecs * torch_vecs).sum(1)
    cos_naive = (naive_vecs * torch_vecs[:args.naive_n]).sum(1)
    print(f"\nparity ONNX int8 vs torch fp32: mean cosine {cos_onnx.mean():.4f}, min {cos_onnx.min():.4f}")
    if student_vecs is not None:
        cos_student = (student_vecs * torch_vecs).sum(1)
        print(f"minilm-l2 student vs teacher torch fp32: mean cosine {cos_student.mean():.4f}, "
              f"min {cos_student.min():.4f}")
    print(f"parity naive loop vs batched torch: mean cosine {cos_naive.mean():.5f}, min {cos_naive.min():.5f}")


if __name__ == "__main__":
    main()
