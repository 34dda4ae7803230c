"""int8 parity by which MatMuls stay fp32: head agreement with torch fp32, cosine, and speed.

    python benchmarks/bench_int8_variants.py [--data ../shared/data] [--repeats 5]

For each variant, the same fp32 ONNX export (``cxlens.nlp.encoders._onnx_export.export_fp32``) is quantised as the
shipped recipe does (dynamic int8, per-channel weights, MatMul only), with some FFN output projections
(``layer.N.output.dense``) left in fp32. A logreg head is fitted on the variant's vectors of the BANKING77
dev-split training part (80/20, seed 0); agreement = how often it predicts the same intent for the dev
texts encoded by the variant and by torch fp32 (and the same for the shipped request-type model).
Speed: 1,000 distinct SpotifyCares tweets, 2 threads, the median of --repeats interleaved rounds.
"""

from __future__ import annotations

import argparse
import re
import tempfile
import time
from pathlib import Path

import numpy as np
import pandas as pd

from cxlens.nlp.encoders import FFN_INPUT_NODES as _FFN_IN, FFN_OUTPUT_NODES as _FFN_OUT

_ATT_OUT = r"attention/output/dense"
#: variant -> regexes of the MatMul node names kept in fp32 (``--variants`` picks some by position)
VARIANTS = {"none (export v1)": [], "FFN output, all 6 layers (export v2, shipped)": [_FFN_OUT],
            "FFN output, layers 4-5": [r"layer\.[45]/output/dense"], "FFN output, layer 5": [r"layer\.5/output/dense"],
            "FFN output, layer 0": [r"layer\.0/output/dense"],
            "FFN output + attention output, all 6 layers": [_FFN_OUT, _ATT_OUT],
            "FFN output + FFN input, all 6 layers": [_FFN_OUT, _FFN_IN],
            "FFN output all 6, FFN input layers 0-2": [_FFN_OUT, r"layer\.[012]/intermediate/dense"],
            "FFN output all 6, FFN input layers 3-5": [_FFN_OUT, r"layer\.[345]/intermediate/dense"]}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--data", default=str(Path(__file__).resolve().parents[2] / "shared" / "data"))
    ap.add_argument("--repeats", type=int, default=5, help="timing rounds; the variants take turns in each")
    ap.add_argument("--variants", default="", metavar="I,J",
                    help=f"positions in the list of variants to run (default all {len(VARIANTS)})")
    args = ap.parse_args()
    import onnx
    import onnxruntime as ort
    from onnxruntime.quantization import QuantType, quantize_dynamic
    from sklearn.linear_model import LogisticRegression
    from sklearn.model_selection import train_test_split

    from cxlens.nlp.encoders import MiniLMEncoder, minilm_model_dir
    from cxlens.nlp.encoders._onnx_export import export_fp32
    from cxlens.nlp.classify import load_default_model

    data = Path(args.data)
    frame = pd.read_csv(data / "banking77" / "train.csv")
    texts, y = frame["text"].astype(str).tolist(), frame["category"].astype(str).to_numpy()
    tr, te = train_test_split(np.arange(len(y)), test_size=0.2, stratify=y, random_state=0)
    train, dev = [texts[i] for i in tr], [texts[i] for i in te]
    tweets = (pd.read_csv(data / "twcs" / "spotifycares_support_requests.csv")["text"].dropna().astype(str)
              .drop_duplicates().sample(1000, random_state=0).tolist())
    dev_fp32 = MiniLMEncoder(backend="torch").encode(dev)
    shipped = load_default_model()

    def shipped_pred(x):
        return shipped.predict_proba(x).argmax(1)

    shipped_fp32 = shipped_pred(dev_fp32)
    results, runners = {}, {}
    with tempfile.TemporaryDirectory() as tmp:
        fp32 = export_fp32(minilm_model_dir(), Path(tmp) / "fp32.onnx")
        nodes = [n.name for n in onnx.load(str(fp32)).graph.node if n.op_type == "MatMul"]
        picked = [int(i) for i in args.variants.split(",") if i] or range(len(VARIANTS))
        for k, (name, patterns) in enumerate(VARIANTS.items()):
            if k not in picked:
                continue
            keep = [n for n in nodes if any(re.search(rx, n) for rx in patterns)]
            path = Path(tmp) / f"int8-{k}.onnx"
            quantize_dynamic(fp32, path, per_channel=True, op_types_to_quantize=["MatMul"],
                             weight_type=QuantType.QInt8, nodes_to_exclude=keep)
            opts = ort.SessionOptions()
            opts.intra_op_num_threads, opts.inter_op_num_threads = 1, 1  # the encoder runs 2 batches at once
            session = ort.InferenceSession(str(path), sess_options=opts, providers=["CPUExecutionProvider"])
            enc = MiniLMEncoder(backend="onnx")
            enc._load()  # tokenizer; the batches then run on this variant's session
            enc._run_batch = lambda i, m, s=session: s.run(["sentence_embedding"],
                                                            {"input_ids": i, "attention_mask": m})[0]
            x_train, x_dev = enc.encode(train), enc.encode(dev)
            head = LogisticRegression(C=10, max_iter=3000).fit(x_train, y[tr])
            cos = (x_dev * dev_fp32).sum(1)
            results[name] = (np.mean(head.predict(x_dev) == head.predict(dev_fp32)) * 100,
                             np.mean(shipped_pred(x_dev) == shipped_fp32) * 100, cos, [])
            runners[name] = enc
            enc.encode(tweets[:64])
        # timing rounds interleave the variants, so a busy spell on the machine hits all of them alike
        for _ in range(args.repeats):
            for name, enc in runners.items():
                t0 = time.perf_counter()
                enc.encode(tweets)
                results[name][3].append(len(tweets) / (time.perf_counter() - t0))
    print(f"| MatMuls kept in fp32 | head agreement | shipped request-type model | cosine mean / min | "
          f"tweets/s, median of {args.repeats} (min-max) |\n|---|---:|---:|---:|---:|")
    for name, (agree, agree_shipped, cos, speeds) in results.items():
        print(f"| {name} | {agree:.2f} % | {agree_shipped:.2f} % | {cos.mean():.4f} / {cos.min():.4f} | "
              f"{np.median(speeds):.0f} "
              f"({min(speeds):.0f}-{max(speeds):.0f}) |")


if __name__ == "__main__":
    main()
