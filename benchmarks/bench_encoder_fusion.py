"""Does onnxruntime's BERT graph fusion make the encoder faster on this CPU? Shipped export against fused graphs.

    python benchmarks/bench_encoder_fusion.py --model teacher   # all-MiniLM-L6-v2 (the default encoder)
    python benchmarks/bench_encoder_fusion.py --model student   # the two-layer student (minilm-l2)

The model is exported with eager attention (the graph pattern onnxruntime's fusion recognises; the
shipped export uses PyTorch's SDPA attention, which it does not), then
``onnxruntime.transformers.optimizer.optimize_model(model_type="bert")`` fuses each layer's attention into
one ``Attention`` op, plus ``SkipLayerNormalization``, ``BiasGelu`` and ``EmbedLayerNormalization``.
Variants: the shipped int8 export (``cxlens.nlp.encoders._onnx_export``), the fused graph in fp32, and the fused
graph quantised with the shipped recipe (dynamic int8 MatMuls, the same FFN projections kept in fp32).
Texts: 2,000 distinct customer messages of the example archive (``cxlens example-data --tickets 2000
--seed 3``, generated into benchmarks/_data/ex2k if absent). Each variant runs through the encoder's own
batching (length-sorted, one single-threaded session per core); cosine against torch fp32 on 1,000 of
them; speed is the median of --rounds interleaved rounds.
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import tempfile
import time
import warnings
from pathlib import Path

import numpy as np
import pandas as pd

HERE = Path(__file__).resolve().parent


def _eager_export(model_dir: Path, path: Path) -> Path:
    import torch
    from transformers import AutoModel

    class Pooled(torch.nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.bert = AutoModel.from_pretrained(str(model_dir), local_files_only=True, attn_implementation="eager")

        def forward(self, input_ids, attention_mask):
            hidden = self.bert(input_ids=input_ids, attention_mask=attention_mask,
                               token_type_ids=torch.zeros_like(input_ids)).last_hidden_state
            m = attention_mask.unsqueeze(-1).to(hidden.dtype)
            return (hidden * m).sum(1) / m.sum(1).clamp(min=1e-9)

    ids = torch.ones((2, 16), dtype=torch.long)
    with torch.no_grad(), warnings.catch_warnings():
        warnings.simplefilter("ignore")
        torch.onnx.export(Pooled().eval(), (ids, ids.clone()), str(path), dynamo=False, opset_version=17,
                          input_names=["input_ids", "attention_mask"], output_names=["sentence_embedding"],
                          dynamic_axes={"input_ids": {0: "batch", 1: "seq"}, "attention_mask": {0: "batch", 1: "seq"},
                                        "sentence_embedding": {0: "batch"}}, do_constant_folding=True)
    return path


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--model", choices=["teacher", "student"], default="teacher")
    ap.add_argument("--rounds", type=int, default=5)
    args = ap.parse_args()
    import onnx
    import onnxruntime as ort
    from onnxruntime.quantization import QuantType, quantize_dynamic
    from onnxruntime.transformers.optimizer import optimize_model

    from cxlens.nlp.encoders import student_model_dir
    from cxlens.nlp.encoders import MiniLMEncoder, minilm_model_dir
    from cxlens.nlp.encoders import ensure_int8_model, fp32_matmuls

    data = HERE / "_data" / "ex2k"
    if not (data / "messages.csv").exists():
        subprocess.run([sys.executable, "-m", "cxlens", "example-data", "--tickets", "2000", "--seed", "3",
                        "--out", str(data)], check=True)
    messages = pd.read_csv(data / "messages.csv")
    texts = (messages.loc[messages["author_role"] == "customer", "text"].dropna().astype(str).drop_duplicates()
             .sample(2000, random_state=0).tolist())
    student = args.model == "student"
    model_dir, batch = (student_model_dir(), 32) if student else (minilm_model_dir(), 64)
    reference = MiniLMEncoder(backend="torch", model_dir=model_dir, batch_size=batch).encode(texts[:1000])
    results: dict[str, list] = {}
    with tempfile.TemporaryDirectory() as tmp:
        fused = Path(tmp) / "fused.onnx"
        optimized = optimize_model(str(_eager_export(model_dir, Path(tmp) / "eager.onnx")), model_type="bert",
                                   num_heads=12, hidden_size=384, opt_level=1)
        print("fused ops:", {k: v for k, v in optimized.get_fused_operator_statistics().items() if v}, flush=True)
        optimized.save_model_to_file(str(fused))
        keep = fp32_matmuls(fused, ffn_input=not student)
        fused_int8 = Path(tmp) / "fused-int8.onnx"
        quantize_dynamic(fused, fused_int8, per_channel=True, op_types_to_quantize=["MatMul"],
                         weight_type=QuantType.QInt8, nodes_to_exclude=keep,
                         extra_options={"DefaultTensorType": onnx.TensorProto.FLOAT})
        variants = {"shipped int8 export": ensure_int8_model(model_dir), "fused, fp32": fused,
                    f"fused, int8 as shipped ({len(keep)} MatMuls fp32)": fused_int8}
        runners = {}
        for name, path in variants.items():
            opts = ort.SessionOptions()
            opts.intra_op_num_threads = opts.inter_op_num_threads = 1
            opts.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
            session = ort.InferenceSession(str(path), sess_options=opts, providers=["CPUExecutionProvider"])
            enc = MiniLMEncoder(backend="onnx", model_dir=model_dir, batch_size=batch)
            enc._load()  # tokenizer and workers; the batches then run on this variant's session
            enc._run_batch = lambda i, m, s=session: s.run(["sentence_embedding"],
                                                            {"input_ids": i, "attention_mask": m})[0]
            cos = (enc.encode(texts[:1000]) * reference).sum(1)
            results[name], runners[name] = [cos, []], enc
        for _ in range(args.rounds):  # interleaved, so a busy spell on the machine hits every variant alike
            for name, enc in runners.items():
                start = time.perf_counter()
                enc.encode(texts)
                results[name][1].append(len(texts) / (time.perf_counter() - start))
    tokens = np.mean([len(x) for x in next(iter(runners.values())).tokenize(texts)])
    print(f"\n{args.model}: {len(texts):,} distinct customer messages, {tokens:.1f} word pieces on average, "
          f"batches of {batch}\n\n| variant | cosine to torch fp32, mean / min | texts/s, median of {args.rounds} "
          "(min-max) |\n|---|---:|---:|")
    for name, (cos, speeds) in results.items():
        print(f"| {name} | {cos.mean():.4f} / {cos.min():.4f} | {np.median(speeds):.0f} "
              f"({min(speeds):.0f}-{max(speeds):.0f}) |")


if __name__ == "__main__":
    main()
