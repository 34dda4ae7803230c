"""Encoder throughput on 2 cores: batch after batch on one 2-thread ONNX session (the encoder before
23 Nov 2026) against batches run side by side on single-threaded sessions (the encoder since).

The batches are the same (length-sorted, padded as MiniLMEncoder pads them), so the vectors are the
same: the largest absolute difference to the first variant is printed for each.

    python benchmarks/bench_encoder_parallel.py student agent     # minilm-l2 on the 371 distinct agent tweets
    python benchmarks/bench_encoder_parallel.py teacher airline   # minilm on 1,000 airline tweets

Each variant is timed three times, the variants interleaved; the median is reported.
"""

from __future__ import annotations

import json
import os
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import numpy as np

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))


def texts_for(kind: str) -> list[str]:
    if kind == "agent":
        import bench_qa_kechtel

        return bench_qa_kechtel.agent_tweets()[:1000]
    from train_sentiment import airline_tweets

    return list(dict.fromkeys(airline_tweets(HERE.parents[1] / "shared" / "data")[0]))[:1000]


def padded_batches(tokenizer, texts: list[str], batch_size: int) -> list[tuple[np.ndarray, np.ndarray]]:
    """The batches MiniLMEncoder runs for ``texts`` (its own batching and padding)."""
    from cxlens.nlp.encoders._encoders import length_sorted_batches, padded_batch

    ids = tokenizer(texts, truncation=True, max_length=128, padding=False, return_attention_mask=False,
                    return_token_type_ids=False)["input_ids"]
    pad = tokenizer.pad_token_id or 0
    return [padded_batch(ids, idx, pad) for idx in length_sorted_batches(ids, batch_size)]


def main() -> None:
    import onnxruntime as ort
    from transformers import AutoTokenizer

    from cxlens.nlp.encoders import student_model_dir
    from cxlens.nlp.encoders import minilm_model_dir
    from cxlens.nlp.encoders import ensure_int8_model

    model = sys.argv[1] if len(sys.argv) > 1 else "student"
    kind = sys.argv[2] if len(sys.argv) > 2 else "agent"
    texts = texts_for(kind)
    model_dir = student_model_dir() if model == "student" else minilm_model_dir()
    batches = padded_batches(AutoTokenizer.from_pretrained(str(model_dir)), texts, 32 if model == "student" else 64)
    path = str(ensure_int8_model(model_dir))

    def session(threads: int):
        opts = ort.SessionOptions()
        opts.intra_op_num_threads, opts.inter_op_num_threads = threads, 1
        opts.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
        return ort.InferenceSession(path, sess_options=opts, providers=["CPUExecutionProvider"])

    two, one_a, one_b = session(2), session(1), session(1)

    def run(s, batch):
        return s.run(["sentence_embedding"], {"input_ids": batch[0], "attention_mask": batch[1]})[0]

    def side_by_side(pick):
        with ThreadPoolExecutor(2) as pool:
            return list(pool.map(lambda kb: run(pick(kb[0]), kb[1]), enumerate(batches)))

    variants = {
        "one_session_2_threads": lambda: [run(two, b) for b in batches],
        "shared_1thread_session_2_workers": lambda: side_by_side(lambda k: one_a),
        "two_1thread_sessions": lambda: side_by_side(lambda k: one_a if k % 2 == 0 else one_b),
        "one_session_1_thread": lambda: [run(one_a, b) for b in batches],
    }
    reference = variants["one_session_2_threads"]()
    for name, variant in variants.items():  # warm-up, and the vectors must not change
        diff = max(float(np.abs(x - y).max()) for x, y in zip(variant(), reference))
        print(f"{name}: max abs difference to one_session_2_threads {diff}")
    rates: dict[str, list[float]] = {name: [] for name in variants}
    for _ in range(3):
        for name, variant in variants.items():
            started = time.perf_counter()
            variant()
            rates[name].append(round(len(texts) / (time.perf_counter() - started), 1))
    print(json.dumps({"model": model, "texts": kind, "n": len(texts),
                      "median_texts_per_s": {k: sorted(v)[1] for k, v in rates.items()}, "all": rates,
                      "load_average": round(os.getloadavg()[0], 2)}))


if __name__ == "__main__":
    main()
