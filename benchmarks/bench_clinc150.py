"""Abstention on CLINC150 with `cxlens train classifier` defaults (issue 20).

    python benchmarks/bench_clinc150.py [--out FILE]

Trains with the command a user would run, on the train split (150 intents + 100 out-of-scope queries labelled
``oos``), predicts the validation split (3,000 in-scope + 100 out-of-scope; the test split is held back), and
reports in-scope accuracy (right intent, not abstained) and out-of-scope recall (``oos`` or ``other``), the
measures of Larson et al. 2019 (BERT: 96.2 / 52.3 with a threshold on the full data). Needs ``../shared/data``.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import pandas as pd

SHARED = Path(__file__).resolve().parents[2] / "shared" / "data" / "clinc150"
OUT_OF_SCOPE = ("oos", "other")


def run(*args: str) -> None:
    subprocess.run([sys.executable, "-m", "cxlens", *args], check=True)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--out", help="also write the JSON here")
    args = ap.parse_args(argv)
    with tempfile.TemporaryDirectory() as tmp:
        model, pred = Path(tmp) / "model", Path(tmp) / "val_pred.csv"
        t0 = time.perf_counter()
        run("train", "classifier", "--data", str(SHARED / "train.csv"), "--text-col", "text", "--label-col",
            "intent", "--out", str(model), "--no-tracking")
        fit_s = time.perf_counter() - t0
        run("predict", "--model", str(model), "--input", str(SHARED / "val.csv"), "--text-col", "text",
            "--output", str(pred))
        frame = pd.read_csv(pred)
    in_scope = frame["intent"] != "oos"
    abstained = frame["label"].isin(OUT_OF_SCOPE)
    result = {"command": "cxlens train classifier --data clinc150/train.csv --text-col text --label-col intent",
              "n_val": int(len(frame)), "train_seconds": round(fit_s, 1),
              "in_scope_accuracy": round(float(((frame["label"] == frame["intent"]) & ~abstained)[in_scope].mean()), 4),
              "out_of_scope_recall": round(float(abstained[~in_scope].mean()), 4),
              "in_scope_abstained": round(float(abstained[in_scope].mean()), 4)}
    text = json.dumps(result, indent=2)
    sys.stdout.write(text + "\n")
    if args.out:
        Path(args.out).write_text(text + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
