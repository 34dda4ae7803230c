"""Benchmark: int8 MiniLM with one activation scale per token (export v4, shipped) against one per tensor
(export v3, before 6 Dec 2026), run text by text and in batches.

    python benchmarks/bench_int8_per_token.py                       # 2,000 example texts, 3 rounds
    python benchmarks/bench_int8_per_token.py --texts 2000 --rounds 3 --workdir /tmp/int8bench

Export v3 ran ``quantize_dynamic``: each ``DynamicQuantizeLinear(x)`` computes ONE scale for the whole
``[batch, tokens, hidden]`` tensor, so a text's vector depended on the other texts of its batch and on the
padding. Export v4 (:mod:`cxlens.nlp.encoders._per_token`) rewrites each of them to one scale per token row,
with the weights as uint8 (U8U8 kernel). Measured in one process, alternating, on the same texts: texts/s of
(a) v3 run text by text (vectors independent of neighbours, slow), (b) v3 in length-sorted batches of 64
(fast, vectors depend on the batch), (c) v4 in batches of 64 (the shipped encoder), all through
``MiniLMEncoder._encode_distinct`` (sessions with 1 intra-op thread, ``default_num_threads()`` batches side
by side); then the mean / min cosine to the fp32 torch vectors, the shipped request-type model's agreement
with fp32, and for (b) and (c) the largest absolute difference between a text's vector computed alone and
inside batches of other compositions.
"""


from __future__ import annotations

import argparse
import json
import statistics
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))


# -- building the v3 export ----------------------------------------------------------------------------------
def build_stock_int8(model_dir: Path, workdir: Path) -> tuple[Path, Path]:
    """The fp32 export and the shipped-recipe int8 export (teacher: both FFN projections fp32), in ``workdir``."""
    from onnxruntime.quantization import QuantType, quantize_dynamic

    from cxlens.nlp.encoders._onnx_export import export_fp32, fp32_matmuls

    workdir.mkdir(parents=True, exist_ok=True)
    fp32 = workdir / "model-fp32.onnx"
    if not fp32.is_file():
        export_fp32(model_dir, fp32)
    int8 = workdir / "model-int8-stock.onnx"
    if not int8.is_file():
        quantize_dynamic(fp32, int8, per_channel=True, op_types_to_quantize=["MatMul"],
                         weight_type=QuantType.QInt8, nodes_to_exclude=fp32_matmuls(fp32, ffn_input=True))
    return fp32, int8


# -- running ---------------------------------------------------------------------------------------------
def onnx_runner(path: Path, *, level: str = "all"):
    import onnxruntime as ort

    opts = ort.SessionOptions()
    opts.intra_op_num_threads = 1
    opts.inter_op_num_threads = 1
    opts.graph_optimization_level = {"all": ort.GraphOptimizationLevel.ORT_ENABLE_ALL,
                                     "basic": ort.GraphOptimizationLevel.ORT_ENABLE_BASIC}[level]
    session = ort.InferenceSession(str(path), sess_options=opts, providers=["CPUExecutionProvider"])

    def run(input_ids: np.ndarray, mask: np.ndarray) -> np.ndarray:
        return session.run(["sentence_embedding"], {"input_ids": input_ids, "attention_mask": mask})[0]

    return run


def v3_encoder(path: Path, batch_size: int):
    """A MiniLMEncoder running the v3 export at ``path`` (same tokenizer, threading and normalisation)."""
    from cxlens.nlp.encoders import MiniLMEncoder

    encoder = MiniLMEncoder(backend="onnx", batch_size=batch_size)
    encoder.encode(["warm up"])  # loads the tokenizer and sets the worker count
    encoder._run_batch = onnx_runner(path)
    return encoder


def texts_of_archive(n: int) -> list[str]:
    import pandas as pd

    from cxlens.example_data import example_archive_path

    folder = example_archive_path()
    tickets = pd.read_csv(folder / "tickets.csv", usecols=["text"])["text"]
    messages = pd.read_csv(folder / "messages.csv", usecols=["author_role", "text"])
    customer = messages.loc[messages["author_role"] == "customer", "text"]
    return pd.concat([tickets, customer]).dropna().drop_duplicates().head(n).tolist()


def _cpu() -> str:
    for line in open("/proc/cpuinfo"):
        if line.startswith("model name"):
            return line.split(":", 1)[1].strip()
    return "unknown"


def timed(encoder, texts: list[str]) -> tuple[float, np.ndarray]:
    started = time.perf_counter()
    vectors = encoder.encode(texts)
    return len(texts) / (time.perf_counter() - started), vectors


def neighbour_check(run, ids: list[list[int]], pad_id: int, *, sample: int, seed: int = 0) -> dict:
    """Largest |difference| between each sampled text's vector alone and inside batches of 64 of other
    compositions: the length-sorted batches, and random batches (other neighbours, more padding)."""
    from cxlens.nlp.encoders._encoders import _normalise, length_sorted_batches, padded_batch

    rng = np.random.default_rng(seed)
    picked = rng.choice(len(ids), size=min(sample, len(ids)), replace=False)
    alone = {int(i): _normalise(run(*padded_batch(ids, np.array([i]), pad_id)))[0] for i in picked}
    worst = {}
    layouts = {"length_sorted": length_sorted_batches(ids, 64),
               "random_a": np.array_split(rng.permutation(len(ids)), -(-len(ids) // 64)),
               "random_b": np.array_split(rng.permutation(len(ids)), -(-len(ids) // 64))}
    for name, batches in layouts.items():
        d = 0.0
        for idx in batches:
            hit = [k for k, i in enumerate(idx) if int(i) in alone]
            if not hit:
                continue
            v = _normalise(run(*padded_batch(ids, idx, pad_id)))
            d = max(d, max(float(np.abs(v[k] - alone[int(idx[k])]).max()) for k in hit))
        worst[name] = d
    return {"texts_checked": len(alone), "max_abs_diff": max(worst.values()), "by_layout": worst}


def main() -> None:
    from cxlens.nlp.classify import load_default_model
    from cxlens.nlp.encoders import MiniLMEncoder, get_encoder, minilm_model_dir

    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--texts", type=int, default=2000)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--check", type=int, default=200, help="texts sampled for the neighbour check")
    parser.add_argument("--workdir", default="/tmp/int8bench")
    args = parser.parse_args()

    started = time.perf_counter()
    _, v3 = build_stock_int8(minilm_model_dir(), Path(args.workdir))
    texts = texts_of_archive(args.texts)
    result: dict = {"texts": len(texts), "cpu": _cpu()}
    fp32 = MiniLMEncoder(backend="torch").encode(texts)
    model = load_default_model()
    reference = model.predict(fp32)
    shipped = get_encoder("minilm-onnx")
    shipped.encode(texts[:8])  # builds the v4 export once
    ways = {"a_v3_per_text": v3_encoder(v3, 1), "b_v3_batched": v3_encoder(v3, 64), "c_v4_batched": shipped}
    result["workers"] = shipped._workers
    speeds: dict[str, list[float]] = {w: [] for w in ways}
    vectors: dict[str, np.ndarray] = {}
    for _ in range(args.rounds):
        for way, encoder in ways.items():
            speed, vectors[way] = timed(encoder, texts)
            speeds[way].append(speed)
    ids = shipped.tokenize(texts)
    pad_id = shipped._tokenizer.pad_token_id or 0
    for way, v in vectors.items():
        cosine = (v * fp32).sum(axis=1)
        row = {"texts_per_s": round(statistics.median(speeds[way]), 1),
               "texts_per_s_rounds": [round(s, 1) for s in speeds[way]],
               "cosine_to_fp32_mean": round(float(cosine.mean()), 5),
               "cosine_to_fp32_min": round(float(cosine.min()), 4),
               "request_type_same_as_fp32_pct": round(100 * float((model.predict(v) == reference).mean()), 2)}
        if way != "a_v3_per_text":
            row["neighbour_check"] = neighbour_check(ways[way]._run_batch, ids, pad_id, sample=args.check)
        result[way] = row
    a = result["a_v3_per_text"]["texts_per_s"]
    for way in ("b_v3_batched", "c_v4_batched"):
        result[way]["speed_over_a"] = round(result[way]["texts_per_s"] / a, 3)
    result["total_s"] = round(time.perf_counter() - started, 1)
    print(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()
