"""Distil the shipped student encoder (``minilm-l2``) from ../shared/data, reproducibly, in one command.

    python benchmarks/train_student_encoder.py --data-dir ../shared/data --out nlp/artifacts/encoder_l2

Unlabelled text only, and only from sets whose licence allows shipping what is trained on them:
the SemEval-2013..2016 Twitter pool (CC BY 3.0; TweetEval's validation tweets dropped, so that split
stays an honest dev set), GoEmotions train (Apache-2.0), BANKING77 train minus the benchmarks' 20 %
dev split (CC BY 4.0), Bitext instructions and replies (CDLA-Sharing-1.0), Rotten Tomatoes sentence
polarity (CC BY 4.0) and the UCI review sentences (CC BY 4.0). The NC sets (airline, twcs) are never
used: they stay evaluation data. Tweets are normalised as the sentiment model sees them
(``--raw-tweets`` adds them as written too: @handles and links, as request types and QA read them).

``--max-texts N`` takes a seeded sample (the CPU budget of the run that produced the shipped weights is
in its ``student.json`` and model card). See :mod:`cxlens.nlp.encoders._distill` for the method.
"""

from __future__ import annotations

import argparse
import csv
import logging
import random
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from train_sentiment import semeval_pool  # noqa: E402

log = logging.getLogger("train_student_encoder")


def corpus(data_dir: Path, *, raw_tweets: bool = False) -> dict[str, list[str]]:
    """Licence-cleared unlabelled texts per source (``raw_tweets``: the SemEval tweets also as written)."""
    import numpy as np
    import pandas as pd
    from sklearn.model_selection import train_test_split

    from cxlens.nlp.sentiment import normalise_post

    out: dict[str, list[str]] = {}
    _, tweets, _ = semeval_pool(data_dir)
    out["semeval2017 (CC BY 3.0)"] = [normalise_post(t) for t in tweets]
    if raw_tweets:  # handles, links and entities as customers write them (what request types and QA read)
        out["semeval2017 as written (CC BY 3.0)"] = list(tweets)
    goemo = pd.read_csv(data_dir / "goemotions" / "train.tsv", sep="\t", header=None, quoting=csv.QUOTE_NONE)
    out["goemotions train (Apache-2.0)"] = goemo[0].astype(str).tolist()
    bank = pd.read_csv(data_dir / "banking77" / "train.csv")
    tr, _ = train_test_split(np.arange(len(bank)), test_size=0.2, stratify=bank["category"], random_state=0)
    out["banking77 train part (CC BY 4.0)"] = bank["text"].astype(str).iloc[tr].tolist()
    bitext = pd.read_csv(data_dir / "bitext" / "bitext_customer_support.csv")
    out["bitext (CDLA-Sharing-1.0)"] = (bitext["instruction"].astype(str).tolist()
                                        + bitext["response"].astype(str).tolist())
    rt = data_dir / "nltk_cc_by_sentiment" / "sentence_polarity"
    out["rt sentence polarity (CC BY 4.0)"] = [line for name in ("rt-polarity.pos", "rt-polarity.neg")
                                               for line in rt.joinpath(name).read_text(encoding="latin-1").splitlines()]
    uci = data_dir / "uci_sentiment_sentences"
    out["uci sentences (CC BY 4.0)"] = [line.rsplit("\t", 1)[0] for p in sorted(uci.glob("*_labelled.txt"))
                                        for line in p.read_text(encoding="utf-8", errors="replace").splitlines()]
    return {k: [t for t in v if t.strip()] for k, v in out.items()}


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--data-dir", default=str(Path(__file__).resolve().parents[2] / "shared" / "data"))
    ap.add_argument("--out", required=True, help="artifact folder to write (student.safetensors + student.json)")
    ap.add_argument("--max-texts", type=int, default=0, help="seeded sample of this many texts (0: all)")
    ap.add_argument("--layers", default="0,5", help="teacher layers the student keeps")
    ap.add_argument("--epochs", type=int, default=1)
    ap.add_argument("--lr", type=float, default=2e-4)
    ap.add_argument("--batch-size", type=int, default=64)
    ap.add_argument("--device", default="auto", choices=("auto", "cpu", "cuda"))
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--raw-tweets", action="store_true",
                    help="also the SemEval tweets as written, with @handles and links (not only normalised)")
    ap.add_argument("--init", default=None, metavar="DIR", help="continue from this student artifact (same layers)")
    args = ap.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(message)s")
    from cxlens.nlp.encoders import distill_encoder

    sources = corpus(Path(args.data_dir), raw_tweets=args.raw_tweets)
    texts = [t for v in sources.values() for t in v]
    random.Random(args.seed).shuffle(texts)
    if args.max_texts:
        texts = texts[:args.max_texts]
    log.info("corpus: %s; %d texts used", {k: len(v) for k, v in sources.items()}, len(texts))
    t0 = time.perf_counter()
    last = [0.0]

    def progress(stage: str, done: int, total: int) -> None:
        if time.perf_counter() - last[0] > 60 or done == total:
            last[0] = time.perf_counter()
            rate = done * args.batch_size / (last[0] - t0)
            log.info("%s %d/%d batches, %.0f texts/s, %.0f min left", stage, done, total, rate,
                     (total - done) * args.batch_size / rate / 60)

    distill_encoder(texts, out_dir=args.out, layers=[int(i) for i in args.layers.split(",")], epochs=args.epochs,
                    lr=args.lr, batch_size=args.batch_size, seed=args.seed, device=args.device,
                    data_info={"sources": {k: len(v) for k, v in sources.items()}, "sampled": len(texts),
                               "command": " ".join(["python benchmarks/train_student_encoder.py",
                                                    *(argv or sys.argv[1:])])},
                    init=args.init, progress=progress)
    log.info("wrote %s in %.0f s", args.out, time.perf_counter() - t0)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
