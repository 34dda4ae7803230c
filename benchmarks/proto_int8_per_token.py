"""Prototype: int8 MiniLM with PER-TOKEN dynamic activation scales, so that batching comes back without a
text's vector depending on its batch neighbours.

    python benchmarks/proto_int8_per_token.py                       # 2,000 example texts, 3 rounds
    python benchmarks/proto_int8_per_token.py --texts 2000 --rounds 3 --workdir /tmp/int8proto

The shipped export (``cxlens.nlp.encoders._onnx_export``) runs ``quantize_dynamic``: every
``DynamicQuantizeLinear(x)`` computes ONE scale for the whole ``[batch, seq, hidden]`` tensor, so a text's
vector depends on the other texts of its batch and on the padding, which is why the encoder now runs each
text alone. The prototype builds the same export (same fp32 graph, same per-channel int8 weights, same FFN
matmuls kept fp32) and then rewrites each ``DynamicQuantizeLinear(x) -> (x_q, x_scale, x_zp)`` into

    x_scale = max(ReduceMax(|x|, axis=-1, keepdims), 1e-8) / 127        # [batch, seq, 1]: one per token
    x_q     = QuantizeLinear(x / x_scale, scale=1, zero_point=128)    # round half to even, uint8
    x_zp    = 128 (uint8 scalar)

The consumers are left as they are: ``MatMulInteger(x_q, W_q, x_zp, W_zp)`` (ORT's U8S8 path), then
``Cast(float) * (x_scale * w_scale)``: the scale product now broadcasts to ``[batch, seq, 384]``. The
attention score/context MatMuls (activation x activation) are not quantised by ``quantize_dynamic`` and stay
fp32; padding keys are masked before softmax; every other op is per token. So a token's state depends only
on its own text.

Measured in one process, alternating, on the same texts: texts/s of (a) the shipped int8 export run text by
text, (b) the shipped int8 export in length-sorted batches of 64 (the old path), (c) the prototype in
length-sorted batches of 64 (both through ``MiniLMEncoder._encode_distinct``: sessions with 1 intra-op
thread, ``default_num_threads()`` batches side by side). Then the mean / min cosine to the fp32 torch
vectors, the shipped request-type model's agreement with fp32, and for (a), (b) and (c) the largest
absolute difference between a text's vector computed alone and inside batches of other compositions.
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


# -- building the prototype ----------------------------------------------------------------------------------
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


def per_token_rewrite(int8_path: Path, target: Path, *, clip: bool = False, signed: bool = False,
                      u8_weights: bool = False) -> dict:
    """Rewrite every DynamicQuantizeLinear of ``int8_path`` into per-token (per-row) quantisation, and each
    ``MatMulInteger -> Cast -> Mul(x_scale * w_scale)`` it feeds into ``MatMulIntegerToFloat(x_q, W_q,
    1, w_scale, x_zp, W_zp) * x_scale`` (the com.microsoft op ORT's own fusion would make from the stock graph).

    Why not leave the consumers as they are: ORT's MatMulIntegerToFloat fusion gives wrong results when
    ``a_scale`` is a ``[batch, seq, 1]`` tensor (measured: mean cosine to fp32 0.907 with ORT_ENABLE_ALL against
    0.998 with ORT_ENABLE_BASIC), and with the per-token scale moved behind the dequantising Mul the fusion no
    longer matches (the unfused MatMulInteger + Cast + Mul run slower). ``clip``: clip the rounded values to
    [-127, 127] (not needed: |x| <= max|x| of its row, so |x / scale| <= 127 up to one ulp). ``signed``: int8
    activations with zero point 0 (S8S8) instead of uint8 with zero point 128 (U8S8). ``u8_weights``: the same
    int8 weights shifted to uint8 with zero point 128 (U8U8: the same products, computed by MLAS's U8U8 kernel,
    which on AVX2 without VNNI widens to 16 bits instead of ``vpmaddubsw``'s saturating int16 pair sums)."""
    import onnx
    from onnx import helper, numpy_helper

    model = onnx.load(str(int8_path))
    graph = model.graph
    producer = {o: n for n in graph.node for o in n.output}
    consumers: dict[str, list] = {}
    for node in graph.node:
        for name in node.input:
            consumers.setdefault(name, []).append(node)
    graph.initializer.extend([numpy_helper.from_array(np.array(v, np.float32), n) for n, v in
                              (("pt_eps", 1e-8), ("pt_127", 127.0), ("pt_m127", -127.0), ("pt_128", 128.0),
                               ("pt_one", 1.0))])
    dropped: set[str] = set()
    inits = {i.name: i for i in graph.initializer}
    shifted: dict[str, str] = {}

    def shifted_u8(name: str) -> str:  # int8 initializer + 128 as uint8 (same products with zero point + 128)
        if name not in shifted:
            values = numpy_helper.to_array(inits[name]).astype(np.int16) + 128
            graph.initializer.append(numpy_helper.from_array(values.astype(np.uint8), name + "_u8"))
            shifted[name] = name + "_u8"
        return shifted[name]

    replace: dict[str, list] = {}  # node name -> nodes that take its place
    for node in graph.node:
        if node.op_type != "DynamicQuantizeLinear":
            continue
        x, (q, s, zp) = node.input[0], node.output
        p = f"pt{len(replace)}_"
        prelude = [
            helper.make_node("Abs", [x], [p + "abs"], name=p + "Abs"),
            helper.make_node("ReduceMax", [p + "abs"], [p + "max"], name=p + "ReduceMax", axes=[-1], keepdims=1),
            helper.make_node("Max", [p + "max", "pt_eps"], [p + "maxg"], name=p + "Guard"),
            helper.make_node("Div", [p + "maxg", "pt_127"], [s], name=p + "Scale"),
            helper.make_node("Div", [x, s], [p + "xs"], name=p + "DivX"),
        ]
        xs = p + "xs"
        if clip:
            prelude.append(helper.make_node("Clip", [xs, "pt_m127", "pt_127"], [p + "c"], name=p + "Clip"))
            xs = p + "c"
        # QuantizeLinear(xs, 1, zp) = saturate(round_half_even(xs) + zp): rounding, shift and cast in one op
        graph.initializer.append(numpy_helper.from_array(np.array(0, np.int8) if signed else np.array(128, np.uint8), zp))
        prelude.append(helper.make_node("QuantizeLinear", [xs, "pt_one", zp], [q], name=p + "Quantize"))
        replace[node.name] = prelude
        for scale_mul in consumers.get(s, []):  # Mul(x_scale, w_scale) -> scales product
            assert scale_mul.op_type == "Mul", scale_mul.op_type
            w_scale = [i for i in scale_mul.input if i != s][0]
            dropped.add(scale_mul.name)
            for deq in consumers[scale_mul.output[0]]:  # Mul(Cast(MatMulInteger(...)), scales product)
                cast = producer[[i for i in deq.input if i != scale_mul.output[0]][0]]
                mmi = producer[cast.input[0]]
                assert deq.op_type == "Mul" and cast.op_type == "Cast" and mmi.op_type == "MatMulInteger"
                dropped.update({cast.name, mmi.name})
                a_q, w_q, a_zp, w_zp = mmi.input
                if u8_weights and not signed:
                    w_q, w_zp = shifted_u8(w_q), shifted_u8(w_zp)
                replace[deq.name] = [
                    helper.make_node("MatMulIntegerToFloat", [a_q, w_q, "pt_one", w_scale, a_zp, w_zp],
                                     [deq.output[0] + "_pt_unscaled"], name=mmi.name + "_pt", domain="com.microsoft"),
                    helper.make_node("Mul", [deq.output[0] + "_pt_unscaled", s], [deq.output[0]],
                                     name=deq.name + "_pt_token_scale")]
    new_nodes = []
    for node in graph.node:
        if node.name in replace:
            new_nodes += replace[node.name]
        elif node.name not in dropped:
            new_nodes.append(node)
    del graph.node[:]
    graph.node.extend(new_nodes)
    used = {i for n in graph.node for i in n.input} | {o.name for o in graph.output}
    kept = [i for i in graph.initializer if i.name in used]  # e.g. the int8 weights replaced by uint8 copies
    del graph.initializer[:]
    graph.initializer.extend(kept)
    if not any(o.domain == "com.microsoft" for o in model.opset_import):
        model.opset_import.append(helper.make_opsetid("com.microsoft", 1))
    onnx.checker.check_model(model)
    onnx.save(model, str(target))
    return {"dynamic_quantize_linear_rewritten": sum(1 for n in replace if n.endswith("QuantizeLinear")),
            "matmuls_to_matmul_integer_to_float": sum(1 for n in new_nodes if n.op_type == "MatMulIntegerToFloat"),
            "clip": clip, "activations": "int8, zero point 0" if signed else "uint8, zero point 128",
            "weights": "uint8, zero point 128 + original" if u8_weights and not signed else "int8 (as quantize_dynamic)"}


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


def prototype_encoder(path: Path):
    """A MiniLMEncoder whose batched ONNX path runs ``path`` (same tokenizer, threading and normalisation)."""
    from cxlens.nlp.encoders import MiniLMEncoder

    encoder = MiniLMEncoder(backend="onnx")
    encoder.encode(["warm up"])  # loads the tokenizer and sets the worker count
    encoder._run_batch = onnx_runner(path)
    encoder.backend_ = "onnx-batched"  # any resolved backend other than "onnx" batches by length
    return encoder


def timed(encoder, texts: list[str], backend: str) -> tuple[float, np.ndarray]:
    encoder.backend_ = backend
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
    from bench_int8_batching import _cpu, texts_of_archive

    from cxlens.nlp.classify import load_default_model
    from cxlens.nlp.encoders import MiniLMEncoder, get_encoder, minilm_model_dir

    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--texts", type=int, default=2000)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--check", type=int, default=200, help="texts sampled for the neighbour check")
    parser.add_argument("--workdir", default="/tmp/int8proto")
    args = parser.parse_args()
    workdir = Path(args.workdir)

    started = time.perf_counter()
    _, stock = build_stock_int8(minilm_model_dir(), workdir)
    proto = workdir / "model-int8-per-token-u8u8.onnx"
    proto_u8s8 = workdir / "model-int8-per-token-u8s8.onnx"
    build = {"c_per_token_batched": per_token_rewrite(stock, proto, u8_weights=True),
             "c2_per_token_u8s8_batched": per_token_rewrite(stock, proto_u8s8)}
    build["build_s"] = round(time.perf_counter() - started, 1)

    texts = texts_of_archive(args.texts)
    result: dict = {"texts": len(texts), "cpu": _cpu(), "build": build}
    fp32 = MiniLMEncoder(backend="torch").encode(texts)
    model = load_default_model()
    reference = model.predict(fp32)

    shipped = get_encoder("minilm-onnx")
    shipped.encode(texts[:8])
    proto_enc = prototype_encoder(proto)
    proto_u8s8_enc = prototype_encoder(proto_u8s8)
    result["workers"] = shipped._workers
    ways = {"a_per_text_int8": (shipped, "onnx"), "b_batched_int8": (shipped, "onnx-batched"),
            "c_per_token_batched": (proto_enc, "onnx-batched"),
            "c2_per_token_u8s8_batched": (proto_u8s8_enc, "onnx-batched")}
    speeds: dict[str, list[float]] = {w: [] for w in ways}
    vectors: dict[str, np.ndarray] = {}
    for _ in range(args.rounds):
        for way, (encoder, backend) in ways.items():
            speed, vectors[way] = timed(encoder, texts, backend)
            speeds[way].append(speed)
    shipped.backend_ = "onnx"

    ids = shipped.tokenize(texts)
    pad_id = shipped._tokenizer.pad_token_id or 0
    runners = {"a_per_text_int8": None, "b_batched_int8": shipped._run_batch, "c_per_token_batched": proto_enc._run_batch,
               "c2_per_token_u8s8_batched": proto_u8s8_enc._run_batch}
    for way, v in vectors.items():
        cosine = (v * fp32).sum(axis=1)
        row = {"texts_per_s": round(statistics.median(speeds[way]), 1),
               "texts_per_s_rounds": [round(s, 1) for s in speeds[way]],
               "cosine_to_fp32_mean": round(float(cosine.mean()), 5),
               "cosine_to_fp32_min": round(float(cosine.min()), 4),
               "request_type_same_as_fp32_pct": round(100 * float((model.predict(v) == reference).mean()), 2)}
        if runners[way] is not None:
            row["neighbour_check"] = neighbour_check(runners[way], ids, pad_id, sample=args.check)
        result[way] = row
    a = result["a_per_text_int8"]["texts_per_s"]
    for way in ("b_batched_int8", "c_per_token_batched", "c2_per_token_u8s8_batched"):
        result[way]["speed_over_a"] = round(result[way]["texts_per_s"] / a, 3)
    result["total_s"] = round(time.perf_counter() - started, 1)
    print(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()
