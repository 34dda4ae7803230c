"""Benchmark: `cxlens score` end to end on a generated archive, against a naive per-text loop.

    python benchmarks/bench_score.py --tickets 100000            # generates the archive if needed
    python benchmarks/bench_score.py --tickets 1000000 --naive-sample 300

Measures, in one run on one machine:

* ``cxlens score`` (default NLP stack: request type + topic + sentiment; with accounts, surveys and
  mentions) in a child process: wall time, tickets/s end to end, peak RSS of the child;
* the naive baseline: the texts the same stack reads for the first ``--naive-sample`` tickets
  (each ticket's customer text and its customer messages), each encoded on its own by a plain
  transformers loop (fp32 torch, one text per forward pass, no cache), heads not even counted:
  tickets/s of that loop;
* the ratio of the two, and how many distinct texts the archive has (the run's VectorStore encodes
  each once per run).
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import pandas as pd

HERE = Path(__file__).resolve().parent


def archive_for(n: int, seed: int) -> Path:
    folder = HERE / "_data" / f"archive_{n}_{seed}_parquet"
    if not (folder / "tickets.parquet").is_file():
        subprocess.run([sys.executable, "-m", "cxlens", "example-data", "--tickets", str(n), "--seed", str(seed),
                        "--format", "parquet", "--out", str(folder)], check=True)
    return folder


def naive_tickets_per_second(archive: Path, sample: int) -> dict:
    import torch
    from transformers import AutoModel, AutoTokenizer

    from cxlens.nlp.encoders import default_num_threads, minilm_model_dir
    from cxlens.pipelines.score import customer_texts

    tickets = pd.read_parquet(archive / "tickets.parquet").head(sample)
    messages = pd.read_parquet(archive / "messages.parquet", columns=["ticket_id", "sent_at", "author_role", "text"])
    messages = messages[messages["ticket_id"].isin(tickets["ticket_id"])]
    texts = customer_texts(tickets, messages).dropna().tolist()
    texts += messages.loc[messages["author_role"] == "customer", "text"].dropna().tolist()
    torch.set_num_threads(default_num_threads())
    folder = str(minilm_model_dir())
    tokenizer = AutoTokenizer.from_pretrained(folder, local_files_only=True)
    model = AutoModel.from_pretrained(folder, local_files_only=True).eval()
    started = time.perf_counter()
    with torch.inference_mode():
        for text in texts:
            enc = tokenizer(text, return_tensors="pt", truncation=True, max_length=128)
            hidden = model(**enc).last_hidden_state
            _ = torch.nn.functional.normalize(hidden.mean(1), dim=-1)
    seconds = time.perf_counter() - started
    return {"tickets": len(tickets), "texts": len(texts), "seconds": round(seconds, 2),
            "tickets_per_s": round(len(tickets) / seconds, 1), "texts_per_s": round(len(texts) / seconds, 1)}


def distinct_texts(archive: Path) -> dict:
    import pyarrow.compute as pc
    import pyarrow.parquet as pq

    msgs = pq.read_table(archive / "messages.parquet", columns=["author_role", "text"])
    customer = msgs.filter(pc.equal(msgs["author_role"], "customer"))["text"]
    tickets = pq.read_table(archive / "tickets.parquet", columns=["text"])["text"]
    return {"customer_messages": len(customer), "distinct_customer_messages": len(pc.unique(customer)),
            "ticket_texts": len(tickets), "distinct_ticket_texts": len(pc.unique(tickets))}


def run_cxlens_score(archive: Path, out: Path, extra: list[str]) -> dict:
    cmd = [sys.executable, "-m", "cxlens", "-q", "score", "--out", str(out)]
    for table in ("tickets", "messages", "mentions", "accounts", "surveys"):
        cmd += [f"--{table}", str(archive / f"{table}.parquet")]
    started = time.perf_counter()
    proc = subprocess.run(cmd + extra, capture_output=True, text=True)
    seconds = time.perf_counter() - started
    if proc.returncode:
        raise SystemExit(f"cxlens score failed ({proc.returncode}):\n{proc.stderr[-3000:]}")
    peak_mb = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
    manifest = json.loads((out / "manifest.json").read_text())
    used = manifest["counts"]["tickets"]["used"]
    return {"seconds": round(seconds, 1), "tickets": used, "tickets_per_s": round(used / seconds, 1),
            "peak_rss_mb": round(peak_mb), "timings": {k: v for k, v in manifest["timings"].items()
                                                       if k != "chunks_s"},
            "cli_summary": proc.stderr.strip().splitlines()[-6:]}


def downstream_only(archive: Path, *, mentions: bool, encoder: str = "minilm") -> dict:
    """The run's last stage alone (accounts, KPIs; mentions if asked) on an archive's tickets and messages.

    The chunk stage's memory does not grow with the archive; this stage reads the narrow columns of
    every ticket and message, so it decides the peak on big archives. Run in a child process
    (``--downstream-only``) so its peak RSS is its own.
    """
    from cxlens.config import KPIConfig
    from cxlens.pipelines.score._run import ScoreInputs, ScoreSummary, _downstream
    from cxlens.pipelines.score import HeadOptions

    out = Path(tempfile.mkdtemp(prefix="cxlens-bench-downstream-"))
    try:
        for table in ("tickets", "messages"):
            (out / table).mkdir()
            (out / table / "part-00000.parquet").symlink_to((archive / f"{table}.parquet").resolve())
        inputs = ScoreInputs(tickets=str(archive / "tickets.parquet"), messages=str(archive / "messages.parquet"),
                             accounts=str(archive / "accounts.parquet"), surveys=str(archive / "surveys.parquet"),
                             mentions=str(archive / "mentions.parquet") if mentions else None)
        manifest = {"options": {"heads": {"fast_sentiment": False}}, "counts": {}, "models": {}}
        started = time.perf_counter()
        summary = ScoreSummary(out=out, manifest=manifest)
        _downstream(out, out / "_work", inputs, manifest, KPIConfig(), summary, HeadOptions(encoder=encoder))
        seconds = time.perf_counter() - started
    finally:
        shutil.rmtree(out, ignore_errors=True)
    peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    return {"seconds": round(seconds, 1), "peak_rss_mb": round(peak_mb), "kpis": manifest.get("kpis_computed")}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--tickets", type=int, default=100_000)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--naive-sample", type=int, default=300, help="tickets in the naive loop's sample")
    parser.add_argument("--extra", default="", help="more `cxlens score` options, e.g. '--scorecard general_support'")
    parser.add_argument("--json", metavar="FILE", help="also write the results here")
    parser.add_argument("--downstream-only", action="store_true",
                        help="measure only the last stage (accounts + KPIs over every ticket and message)")
    parser.add_argument("--mentions-encoder", default=None, metavar="NAME",
                        help="with --downstream-only: score the mentions too, on this encoder")
    parser.add_argument("--naive-only", action="store_true", help="measure only the naive per-text loop")
    args = parser.parse_args()
    archive = archive_for(args.tickets, args.seed)
    if args.naive_only:
        naive = naive_tickets_per_second(archive, args.naive_sample)
        naive["load_average_after"] = round(os.getloadavg()[0], 2)
        print(json.dumps({"archive": str(archive), "naive": naive}, indent=2))
        return
    if args.downstream_only:
        print(json.dumps({"archive": str(archive), "downstream": downstream_only(
            archive, mentions=bool(args.mentions_encoder), encoder=args.mentions_encoder or "minilm")}, indent=2))
        return
    results = {"archive": str(archive), "distinct": distinct_texts(archive)}
    results["naive"] = naive_tickets_per_second(archive, args.naive_sample)
    results["naive"]["load_average_after"] = round(os.getloadavg()[0], 2)
    print(json.dumps(results, indent=2), flush=True)
    out = Path(tempfile.mkdtemp(prefix="cxlens-bench-score-"))
    try:
        results["score"] = run_cxlens_score(archive, out / "out", args.extra.split())
    finally:
        shutil.rmtree(out, ignore_errors=True)
    results["score"]["load_average_after"] = round(os.getloadavg()[0], 2)
    results["speedup_vs_naive"] = round(results["score"]["tickets_per_s"] / results["naive"]["tickets_per_s"], 2)
    print(json.dumps(results, indent=2))
    if args.json:
        Path(args.json).write_text(json.dumps(results, indent=2))


if __name__ == "__main__":
    main()
