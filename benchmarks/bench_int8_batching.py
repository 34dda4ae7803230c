"""Benchmark: the int8 MiniLM encoders run text by text (vectors independent of the batch) against the
length-sorted batches they ran in before 6 Dec 2026 (vectors depending on their batch neighbours).

    python benchmarks/bench_int8_batching.py                      # the example archive's customer texts
    python benchmarks/bench_int8_batching.py --texts 2000 --rounds 3

For the teacher (``minilm``, int8) and the student (``minilm-l2``, int8), in one process, alternating:
texts/s of each way (median of ``--rounds``); then, against the fp32 torch teacher on the same texts,
the mean and minimum cosine of each way's vectors and how often the shipped request-type model gives
the same label. The batched way is the pre-change code path (an encoder whose resolved backend is not
``onnx`` batches by length); it is reached here only to measure it.
"""

from __future__ import annotations

import argparse
import json
import statistics
import time

import numpy as np
import pandas as pd


def texts_of_archive(n: int) -> list[str]:
    from cxlens.example_data import example_archive_path

    folder = example_archive_path()
    tickets = pd.read_csv(folder / "tickets.csv", usecols=["text"])["text"]
    messages = pd.read_csv(folder / "messages.csv", usecols=["author_role", "text"])
    customer = messages.loc[messages["author_role"] == "customer", "text"]
    return pd.concat([tickets, customer]).dropna().drop_duplicates().head(n).tolist()


def timed(encoder, texts: list[str], way: str) -> tuple[float, np.ndarray]:
    encoder.backend_ = "onnx" if way == "per_text" else "onnx-batched"  # see the module docstring
    started = time.perf_counter()
    vectors = encoder.encode(texts)
    return len(texts) / (time.perf_counter() - started), vectors


def main() -> None:
    from cxlens.nlp.classify import load_default_model
    from cxlens.nlp.encoders import MiniLMEncoder, get_encoder

    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--texts", type=int, default=2000)
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    texts = texts_of_archive(args.texts)
    result: dict = {"texts": len(texts), "cpu": _cpu()}
    fp32 = MiniLMEncoder(backend="torch").encode(texts)
    model = load_default_model()
    reference = model.predict(fp32)
    for name in ("minilm-onnx", "minilm-l2"):
        encoder = get_encoder(name)
        encoder.encode(texts[:8])  # load (and build the int8 export once)
        speeds: dict[str, list[float]] = {"per_text": [], "batched": []}
        vectors = {}
        for _ in range(args.rounds):
            for way in speeds:
                speed, vectors[way] = timed(encoder, texts, way)
                speeds[way].append(speed)
        encoder.backend_ = "onnx"
        row = {way: {"texts_per_s": round(statistics.median(s), 1)} for way, s in speeds.items()}
        row["per_text_over_batched_speed"] = round(row["per_text"]["texts_per_s"] / row["batched"]["texts_per_s"], 3)
        if name == "minilm-onnx":  # the request-type head was fitted on the teacher's vectors
            for way, v in vectors.items():
                cosine = (v * fp32).sum(axis=1)
                row[way].update({"cosine_to_fp32_mean": round(float(cosine.mean()), 5),
                                 "cosine_to_fp32_min": round(float(cosine.min()), 4),
                                 "request_type_same_as_fp32_pct": round(100 * float((model.predict(v) == reference)
                                                                                    .mean()), 2)})
        result[name] = row
    print(json.dumps(result, indent=2))


def _cpu() -> str:
    for line in open("/proc/cpuinfo"):
        if line.startswith("model name"):
            return line.split(":", 1)[1].strip()
    return "unknown"


if __name__ == "__main__":
    main()
