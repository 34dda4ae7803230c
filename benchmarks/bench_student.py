"""What the distilled student encoder (minilm-l2) costs in accuracy against the teacher (minilm), on BANKING77.

    python benchmarks/bench_student.py [--data ../shared/data]

BANKING77 dev split (80/20 stratified, seed 0; the student never saw the dev texts: its distillation
corpus holds only the training part):

* a logistic head (C=10) fitted on teacher vectors, applied to teacher and to student vectors
  (accuracy, and how often the two agree): what a head trained on ``minilm`` gives on ``minilm-l2``;
* the same head fitted on student vectors (what retraining on the student gives);
* the shipped request-type model on teacher vs student vectors of the dev texts: agreement;
* cosine of student to teacher vectors.

Both encoders are the default int8 ONNX path. The sentiment, QA and speed effects are measured by
``bench_sentiment.py --encoder minilm-l2``, ``bench_qa_kechtel.py --encoder minilm-l2`` and
``bench_encoder.py``.
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

import numpy as np
import pandas as pd


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--data", default=str(Path(__file__).resolve().parents[2] / "shared" / "data"))
    args = ap.parse_args()
    from sklearn.linear_model import LogisticRegression
    from sklearn.model_selection import train_test_split

    from cxlens.nlp.encoders import STUDENT_ENCODER, get_encoder
    from cxlens.nlp.classify import load_default_model

    frame = pd.read_csv(Path(args.data) / "banking77" / "train.csv")
    texts, y = frame["text"].astype(str).tolist(), frame["category"].astype(str).to_numpy()
    tr, te = train_test_split(np.arange(len(y)), test_size=0.2, stratify=y, random_state=0)
    vectors = {}
    for name in ("minilm", STUDENT_ENCODER):
        t0 = time.perf_counter()
        vectors[name] = get_encoder(name).encode(texts)
        print(f"encoded {len(texts)} texts with {name} in {time.perf_counter() - t0:.1f}s", flush=True)
    teacher, student = vectors["minilm"], vectors[STUDENT_ENCODER]
    cos = (teacher * student).sum(1)
    print(f"cosine student vs teacher: mean {cos.mean():.4f}, 5th percentile {np.percentile(cos, 5):.4f}, "
          f"min {cos.min():.4f}")
    head_t = LogisticRegression(C=10, max_iter=3000).fit(teacher[tr], y[tr])
    head_s = LogisticRegression(C=10, max_iter=3000).fit(student[tr], y[tr])
    pt, ps = head_t.predict(teacher[te]), head_t.predict(student[te])
    print("| BANKING77 dev split (2,001 texts) | accuracy | agreement with the teacher |\n|---|---:|---:|")
    print(f"| head fitted on teacher vectors, teacher vectors | {np.mean(pt == y[te]) * 100:.2f} | |")
    print(f"| the same head, student vectors | {np.mean(ps == y[te]) * 100:.2f} | {np.mean(ps == pt) * 100:.2f} % |")
    print(f"| head fitted on student vectors, student vectors | "
          f"{np.mean(head_s.predict(student[te]) == y[te]) * 100:.2f} | |")
    shipped = load_default_model()
    st, ss = (shipped.predict_proba(v[te]).argmax(1) for v in (teacher, student))
    print(f"| shipped request-type model, student vs teacher vectors | | {np.mean(st == ss) * 100:.2f} % |")


if __name__ == "__main__":
    main()
