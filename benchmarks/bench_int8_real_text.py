"""int8 export v4 against v3 on real customer tweets: how often the shipped request-type model's label moves,
how often each agrees with fp32, and the texts whose label moved (to read them).

    python benchmarks/bench_int8_real_text.py --n 700        # 700 airline tweets + 700 tweets to @SpotifyCares

Evaluation only (airline tweets and TWCS are non-commercial: measured, never trained on). Builds the v3
export like ``bench_int8_per_token.py`` (``--workdir``).
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import numpy as np
import pandas as pd

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))


def main() -> None:
    from bench_int8_per_token import build_stock_int8, v3_encoder

    from cxlens.nlp.classify import load_default_model
    from cxlens.nlp.encoders import MiniLMEncoder, get_encoder, minilm_model_dir

    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--data-dir", default=str(HERE.parents[1] / "shared" / "data"))
    parser.add_argument("--n", type=int, default=700, help="tweets per source")
    parser.add_argument("--show", type=int, default=20, help="texts whose label moved, printed")
    parser.add_argument("--workdir", default="/tmp/int8bench")
    args = parser.parse_args()
    data = Path(args.data_dir)
    sources = {"airline": pd.read_csv(data / "twitter_airline_sentiment" / "train.csv")["text"],
               "spotify": pd.read_csv(data / "twcs" / "spotifycares_support_requests.csv")["text"]}
    texts, source = [], []
    for name, column in sources.items():
        picked = column.dropna().head(args.n).tolist()
        texts += picked
        source += [name] * len(picked)
    source = np.asarray(source)
    _, v3_path = build_stock_int8(minilm_model_dir(), Path(args.workdir))
    model = load_default_model()
    labels = {"fp32": model.predict(MiniLMEncoder(backend="torch").encode(texts)),
              "v3": model.predict(v3_encoder(v3_path, 64).encode(texts)),
              "v4": model.predict(get_encoder("minilm-onnx").encode(texts))}
    for name in sources:
        rows = source == name
        print(f"{name}: {rows.sum()} texts; label as fp32: v3 {100 * (labels['v3'][rows] == labels['fp32'][rows]).mean():.1f} %,"
              f" v4 {100 * (labels['v4'][rows] == labels['fp32'][rows]).mean():.1f} %")
    moved = np.flatnonzero(labels["v3"] != labels["v4"])
    print(f"label moved v3 -> v4 on {len(moved)} of {len(texts)}")
    for i in moved[:args.show]:
        print(f"{labels['v3'][i]:>20} -> {labels['v4'][i]:<20} fp32={labels['fp32'][i]:<20} {texts[i][:90]!r}")


if __name__ == "__main__":
    main()
