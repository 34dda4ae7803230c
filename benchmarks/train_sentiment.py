"""Train the shipped sentiment model from ../shared/data, reproducibly, in one command.

    python benchmarks/train_sentiment.py --finetune --distill --encoder minilm-l2 --teacher-epochs 3 \
        --teacher-lr 3e-5 --alpha 0.5 --unlabelled goemotions,reviews --extra-max 10000 --epochs 3 --lr 2e-4
    python benchmarks/train_sentiment.py --max-train 36000      # the frozen head (nlp/artifacts/sentiment_frozen)

Data: the SemEval-2013..2016 Twitter pool (``semeval2017_task4a_train``, CC BY 3.0) minus
the 84 ids with conflicting labels and minus every tweet of the TweetEval validation split
(``tweeteval_val_overlap_ids.tsv``), so that split stays an honest dev set. The airline
tweets (CC BY-NC-SA) are never used for training.

Two models ship. The frozen head (no ``--finetune``; ``nlp/artifacts/sentiment_frozen``, what ``cxlens
score`` uses): the shared MiniLM encoder (``get_encoder("minilm")``, ONNX int8), frozen; its 384-d vector
plus the four VADER-with-fixes numbers into a logistic-regression head with balanced class weights;
temperature calibration on out-of-fold logits (:class:`cxlens.nlp.sentiment.SentimentClassifier`). The tuned
student (the first command; ``nlp/artifacts/sentiment``, the default model everywhere else): the same
head on the distilled student after tuning it by distillation from a tuned MiniLM (``--distill``, below;
a GPU run: several hours on 2 CPU cores).
``--max-train N`` takes a seeded random sample of N tweets (the CPU budget of the run that
produced the shipped weights: see the model card). ``--embeddings-cache DIR`` keeps the
encoded vectors as .npy so a second run skips encoding.

``--extra goemotions,reviews,objective`` adds labelled posts from other licence-cleared sets to the
pool (:func:`extra_sets`): GoEmotions comments whose emotions all fall on one side of the set's own
``sentiment_dict.json`` (neutral-only comments as neutral; mixed and ambiguous ones dropped; a seeded
sample of ``--extra-max`` per set), the CC BY 4.0 review sentences (Rotten Tomatoes sentence polarity
and the UCI Amazon/Yelp/IMDB sentences, positive/negative only) and the objective plot sentences of the
subjectivity set as neutral. Whether they help is measured in docs/benchmarks.md.

``--distill`` (with ``--finetune``; :func:`distilled_head`) tunes all-MiniLM-L6-v2 first, then the
``--encoder`` on its probabilities mixed with the gold labels, plus ``--unlabelled`` texts it labels.
``--holdout FRAC`` keeps part of the pool out to choose settings on. ``--tuned-encoder DIR`` fits the
head on an encoder tuned elsewhere (a GPU machine), so the head is fitted on the vectors this machine serves.

``--finetune`` first tunes all-MiniLM-L6-v2 end to end on the same tweets
(:mod:`cxlens.nlp.encoders._finetune`: mean pooling + linear layer, cross-entropy, AdamW, linear warm-up/decay;
a GPU when one is present), then fits the same head on the tuned vectors. It writes a sentiment model
folder with the tuned encoder in ``encoder/`` to ``--out`` (not the shipped folder: 90 MB), which
``cxlens mentions score --model`` and ``bench_sentiment.py --model`` load like any other.
"""

from __future__ import annotations

import argparse
import csv
import hashlib
import json
import logging
import random
import sys
import time
from pathlib import Path

import numpy as np

LABELS = ("negative", "neutral", "positive")
log = logging.getLogger("train_sentiment")


def semeval_pool(data_dir: Path, *, max_ids: int | None = None, seed: int = 0,
                 drop_tweeteval_val: bool = True) -> tuple[list[str], list[str], list[str]]:
    """(ids, texts, labels) of the SemEval pool: first occurrence of an id, conflicts and val overlap dropped.

    ``max_ids`` keeps the first ``max_ids`` ids of a seeded shuffle of all ids (taken before the
    drops, so a sample is a prefix of the full order whatever is dropped).
    """
    folder = data_dir / "semeval2017_task4a_train"
    conflicts = set(folder.joinpath("label_conflict_ids.txt").read_text().split())
    overlap: set[str] = set()
    if drop_tweeteval_val:
        lines = folder.joinpath("tweeteval_val_overlap_ids.tsv").read_text().splitlines()[1:]
        overlap = {line.split("\t")[1].strip() for line in lines if "\t" in line}
    rows: dict[str, tuple[str, str]] = {}
    for path in sorted(folder.glob("twitter-*-A.tsv")):
        for line in path.read_text(encoding="utf-8").splitlines():
            parts = line.split("\t")
            if len(parts) < 3:
                continue
            rows.setdefault(parts[0], (parts[1].strip(), "\t".join(parts[2:])))
    order = sorted(rows)
    random.Random(seed).shuffle(order)
    if max_ids:
        order = order[:max_ids]
    ids = [i for i in order if i not in conflicts and i not in overlap and rows[i][0] in LABELS]
    return ids, [rows[i][1] for i in ids], [rows[i][0] for i in ids]


def _goemotions(data_dir: Path) -> tuple[list[str], list[str]]:
    folder = data_dir / "goemotions"
    names = folder.joinpath("emotions.txt").read_text().split()
    polarity = json.loads(folder.joinpath("sentiment_dict.json").read_text())
    side = {e: "positive" for e in polarity["positive"]} | {e: "negative" for e in polarity["negative"]}
    side["neutral"] = "neutral"
    texts, labels = [], []
    with open(folder / "train.tsv", encoding="utf-8", newline="") as f:
        for row in csv.reader(f, delimiter="\t", quoting=csv.QUOTE_NONE):
            sides = {side.get(names[int(i)], "ambiguous") for i in row[1].split(",")}
            if len(sides) == 1 and "ambiguous" not in sides:
                texts.append(row[0])
                labels.append(sides.pop())
    return texts, labels


def _review_sentences(data_dir: Path) -> tuple[list[str], list[str]]:
    texts, labels = [], []
    polarity = data_dir / "nltk_cc_by_sentiment" / "sentence_polarity"
    for name, label in (("rt-polarity.pos", "positive"), ("rt-polarity.neg", "negative")):
        lines = polarity.joinpath(name).read_text(encoding="latin-1").splitlines()
        texts += [line.strip() for line in lines if line.strip()]
        labels += [label] * (len(texts) - len(labels))
    for path in sorted((data_dir / "uci_sentiment_sentences").glob("*_labelled.txt")):
        for line in path.read_text(encoding="utf-8", errors="replace").splitlines():
            text, _, y = line.rpartition("\t")
            if y.strip() in ("0", "1") and text.strip():
                texts.append(text.strip())
                labels.append("positive" if y.strip() == "1" else "negative")
    return texts, labels


def _objective_sentences(data_dir: Path) -> tuple[list[str], list[str]]:
    path = data_dir / "nltk_cc_by_sentiment" / "subjectivity" / "plot.tok.gt9.5000"
    texts = [line.strip() for line in path.read_text(encoding="latin-1").splitlines() if line.strip()]
    return texts, ["neutral"] * len(texts)


EXTRA_SETS = {"goemotions": _goemotions, "reviews": _review_sentences, "objective": _objective_sentences}


def extra_sets(data_dir: Path, names: list[str], *, max_per_set: int, seed: int) -> dict[str, tuple[list, list]]:
    """(texts, labels) per extra set named in ``names``, each a seeded sample of at most ``max_per_set``."""
    out = {}
    for name in names:
        if name not in EXTRA_SETS:
            raise SystemExit(f"--extra {name!r}: use some of {', '.join(EXTRA_SETS)}")
        texts, labels = EXTRA_SETS[name](data_dir)
        order = list(range(len(texts)))
        random.Random(seed).shuffle(order)
        order = sorted(order[:max_per_set])
        out[name] = ([texts[i] for i in order], [labels[i] for i in order])
    return out


def tweeteval_val(data_dir: Path) -> tuple[list[str], list[str]]:
    """TweetEval sentiment validation split, read line by line (not a CSV)."""
    folder = data_dir / "tweeteval_sentiment"
    labels = [int(x) for x in folder.joinpath("val_labels.txt").read_text().split()]
    texts = folder.joinpath("val_text.txt").read_text(encoding="utf-8").split("\n")[:len(labels)]
    return texts, [LABELS[i] for i in labels]


def airline_tweets(data_dir: Path) -> tuple[list[str], list[str]]:
    """Airline tweets (CC BY-NC-SA): evaluation only."""
    with open(data_dir / "twitter_airline_sentiment" / "train.csv", encoding="utf-8", newline="") as f:
        rows = list(csv.DictReader(f))
    return [r["text"] for r in rows], [r["airline_sentiment"] for r in rows]


def encode_cached(texts: list[str], *, name: str, cache: Path | None, encoder: str = "minilm") -> np.ndarray:
    """Encoder vectors of the normalised texts, cached as ``<cache>/<name>-<hash>.npy`` when a cache is given."""
    from cxlens.nlp.encoders import get_encoder
    from cxlens.nlp.sentiment import normalise_post

    posts = [normalise_post(t) for t in texts]
    key = hashlib.blake2b("\n".join(posts).encode("utf-8", "surrogatepass") + encoder.encode(),
                          digest_size=8).hexdigest()
    path = cache / f"{name}-{key}.npy" if cache else None
    if path is not None and path.is_file():
        return np.load(path)
    t0 = time.perf_counter()
    vectors = get_encoder(encoder).encode(posts)
    log.info("encoded %d %s texts in %.0fs", len(posts), name, time.perf_counter() - t0)
    if path is not None:
        path.parent.mkdir(parents=True, exist_ok=True)
        np.save(path, vectors)
    return vectors


def macro_recall(gold, pred) -> float:
    from sklearn.metrics import recall_score

    return float(recall_score(gold, pred, labels=list(LABELS), average="macro"))


def scores(name: str, gold, pred, *, what: tuple[str, ...] = ("macro_recall", "accuracy")) -> dict:
    """``{f"{name}_{measure}": percent}`` for the measures in ``what`` (macro_recall, accuracy, macro_f1)."""
    from sklearn.metrics import accuracy_score, f1_score

    measures = {"macro_recall": macro_recall, "accuracy": accuracy_score,
                "macro_f1": lambda g, p: f1_score(g, p, average="macro")}
    return {f"{name}_{m}": round(100 * float(measures[m](gold, pred)), 2) for m in what}


def holdout_split(texts: list[str], labels: list[str], *, frac: float,
                  seed: int) -> tuple[list[str], list[str], tuple[list[str], list[str]] | None]:
    """``(train texts, train labels, (held-out texts, labels) or None)``: a seeded, stratified ``frac`` of the
    pool kept out of training, to choose training settings on without looking at TweetEval's split."""
    if not frac:
        return texts, labels, None
    from sklearn.model_selection import train_test_split

    tr, te = train_test_split(np.arange(len(texts)), test_size=frac, stratify=labels, random_state=seed)
    pick = (lambda rows, idx: [rows[i] for i in idx])
    return pick(texts, tr), pick(labels, tr), (pick(texts, te), pick(labels, te))


def head_only(model):
    """The same fitted classifier without its rules (support phrases, lexicon for posts without letters): the
    head's own argmax, what ``training.json`` reports next to ``score_sentiment``'s numbers."""
    import copy

    return copy.deepcopy(model).set_params(support_rules=False, lexicon_for_no_letters=False)


def with_vectors(texts: list[str], vectors: np.ndarray, encoder: str):
    """The normalised ``texts`` as a :class:`~cxlens.nlp.Texts` carrying their ``encoder`` vectors (from
    :func:`encode_cached`), so the classifier encodes nothing again."""
    from cxlens.nlp import Texts, encoder_key
    from cxlens.nlp.encoders import get_encoder
    from cxlens.nlp.sentiment import normalise_post

    return Texts([normalise_post(t) for t in texts], vectors={encoder_key(get_encoder(encoder)): vectors})


def train_head(args: argparse.Namespace) -> dict:
    from cxlens.nlp.sentiment import SentimentClassifier

    data_dir = Path(args.data_dir)
    _, texts, labels = semeval_pool(data_dir, max_ids=args.max_train, seed=args.seed)
    cache = Path(args.embeddings_cache) if args.embeddings_cache else None
    X = encode_cached(texts, name="semeval", cache=cache, encoder=args.encoder)
    extra_counts = {}
    names = [n for n in (args.extra or "").split(",") if n]
    for name, (more, more_labels) in extra_sets(data_dir, names, max_per_set=args.extra_max, seed=args.seed).items():
        X = np.vstack([X, encode_cached(more, name=name, cache=cache, encoder=args.encoder)])
        texts, labels = texts + more, labels + more_labels
        extra_counts[name] = {lab: more_labels.count(lab) for lab in LABELS}
    t0 = time.perf_counter()
    clf = SentimentClassifier(C=args.C, encoder=args.encoder, lexicon_features=not args.no_lexicon_features,
                              random_state=args.seed).fit(with_vectors(texts, X, args.encoder), labels)
    fit_s = time.perf_counter() - t0
    clf.save(args.out)
    model = head_only(clf)
    val_texts, val_labels = tweeteval_val(data_dir)
    val_pred = model.predict(with_vectors(val_texts, encode_cached(val_texts, name="val", cache=cache,
                                                                    encoder=args.encoder), args.encoder))
    metrics = {
        "train_size": len(texts), "train_counts": {lab: labels.count(lab) for lab in LABELS},
        "extra": extra_counts,
        "C": args.C, "lexicon_features": not args.no_lexicon_features, "fit_seconds": round(fit_s, 1),
        "temperature": clf.temperature_, **scores("tweeteval_val", val_labels, val_pred),
    }
    if not args.skip_airline:
        air_texts, air_labels = airline_tweets(data_dir)
        air_pred = model.predict(with_vectors(air_texts, encode_cached(air_texts, name="airline", cache=cache,
                                                                        encoder=args.encoder), args.encoder))
        metrics.update(scores("airline", air_labels, air_pred, what=("accuracy", "macro_f1")))
    Path(args.out, "training.json").write_text(json.dumps(metrics, indent=2) + "\n")
    return metrics


def distilled_head(texts: list[str], labels: list[str], args: argparse.Namespace, *, metrics: dict,
                   checks: dict):
    """Knowledge distillation: tune all-MiniLM-L6-v2 (the teacher) on the tweets, then tune the student on
    the teacher's probabilities -- mixed with the gold labels (``--alpha`` of the gold one-hot) on the
    tweets, alone on the ``--unlabelled`` texts -- and fit the student's head on the tweets' gold labels.
    The teacher's own scores on ``checks`` (name -> (texts, labels) or None) go to ``metrics``."""
    from cxlens.nlp.encoders import finetune_encoder, tuning_base
    from cxlens.nlp.sentiment import SentimentClassifier, normalise_post

    # the teacher's own probabilities (no rules) are the student's targets
    teacher = SentimentClassifier(C=args.C, lexicon_features=not args.no_lexicon_features, encoder="minilm",
                                  finetune_epochs=args.teacher_epochs, learning_rate=args.teacher_lr,
                                  random_state=args.seed, device=args.device, support_rules=False,
                                  lexicon_for_no_letters=False).fit(texts, labels)
    names = [n for n in args.unlabelled.split(",") if n]
    sets = extra_sets(Path(args.data_dir), names, max_per_set=args.extra_max, seed=args.seed)
    more = [t for ts, _ in sets.values() for t in ts]
    proba = teacher.predict_proba(texts + more)
    gold = np.eye(len(LABELS))[[LABELS.index(v) for v in labels]]
    soft = np.vstack([args.alpha * gold + (1 - args.alpha) * proba[:len(texts)], proba[len(texts):]])
    tuned = finetune_encoder([normalise_post(t) for t in texts + more], soft, base=tuning_base(args.encoder),
                             epochs=args.epochs, lr=args.lr, seed=args.seed, device=args.device)
    metrics["distill"] = {"teacher_epochs": args.teacher_epochs, "teacher_lr": args.teacher_lr, "alpha": args.alpha,
                          "unlabelled": {n: len(ts) for n, (ts, _) in sets.items()}}
    for name, pair in checks.items():
        if pair:
            metrics["distill"].update(scores(f"teacher_{name}", pair[1], list(teacher.predict(pair[0])),
                                             what=("macro_recall",)))
    return SentimentClassifier(encoder=args.encoder, encoder_dir=tuned, C=args.C,
                               lexicon_features=not args.no_lexicon_features, random_state=args.seed).fit(texts, labels)


def finetune(args: argparse.Namespace) -> dict:
    """Tune MiniLM on the same pool, then fit the head on the tuned vectors (``SentimentClassifier(finetune_epochs=N)``).

    The output folder loads like any sentiment model (``cxlens mentions score --model DIR``,
    ``bench_sentiment.py --model DIR``); its tuned encoder is in ``DIR/encoder``: a 90 MB folder for
    all-MiniLM-L6-v2, the two tuned layers (7 MB) for ``--encoder minilm-l2``. The head's scores (argmax,
    without ``score_sentiment``'s rules) go to ``DIR/training.json``.
    """
    from cxlens.nlp.sentiment import SentimentClassifier

    out = Path(args.out).resolve()
    shipped = (Path(__file__).resolve().parents[1] / "nlp" / "artifacts" / "sentiment").resolve()
    if out == shipped and args.encoder != "minilm-l2":
        raise SystemExit("--finetune of all-MiniLM-L6-v2 writes a 90 MB encoder: give --out a folder outside "
                         "nlp/artifacts/sentiment (a tuned minilm-l2 student is stored in 7 MB and may go there)")
    data_dir = Path(args.data_dir)
    _, texts, labels = semeval_pool(data_dir, max_ids=args.max_train, seed=args.seed)
    if args.limit:
        texts, labels = texts[:args.limit], labels[:args.limit]
    texts, labels, held = holdout_split(texts, labels, frac=args.holdout, seed=args.seed)
    val_texts, val_labels = tweeteval_val(data_dir)
    metrics: dict = {}
    t0 = time.perf_counter()
    if args.tuned_encoder:
        head = SentimentClassifier(encoder=args.encoder, encoder_dir=args.tuned_encoder, C=args.C,
                                   lexicon_features=not args.no_lexicon_features,
                                   random_state=args.seed).fit(texts, labels)
        # no tuning here: --epochs and --lr below are only a label; the tuning's own record is in its student.json
        metrics["tuned_encoder"] = str(args.tuned_encoder)
    elif args.distill:
        head = distilled_head(texts, labels, args, metrics=metrics, checks={"tweeteval_val": (val_texts, val_labels),
                                                                            "holdout": held})
    else:
        head = SentimentClassifier(C=args.C, lexicon_features=not args.no_lexicon_features, encoder=args.encoder,
                                   finetune_epochs=args.epochs, learning_rate=args.lr, random_state=args.seed,
                                   device=args.device).fit(texts, labels)
    fit_s = time.perf_counter() - t0
    head.save(out)
    head = head_only(head)  # the scores below are the head's own (the saved model keeps its rules)
    val_pred = list(head.predict(val_texts))
    metrics = {"train_size": len(texts), "train_counts": {lab: labels.count(lab) for lab in LABELS},
               "encoder": args.encoder, "epochs": args.epochs, "lr": args.lr, "C": args.C, **metrics,
               "lexicon_features": not args.no_lexicon_features, "fit_seconds": round(fit_s),
               "temperature": head.temperature_, **scores("tweeteval_val", val_labels, val_pred)}
    if held:
        metrics["holdout_size"] = len(held[0])
        metrics.update(scores("holdout", held[1], list(head.predict(held[0])), what=("macro_recall",)))
    if not args.skip_airline:
        air_texts, air_labels = airline_tweets(data_dir)
        metrics.update(scores("airline", air_labels, list(head.predict(air_texts)), what=("accuracy", "macro_f1")))
    (out / "training.json").write_text(json.dumps(metrics, indent=2) + "\n")
    return metrics


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--data-dir", default=str(Path(__file__).resolve().parents[2] / "shared" / "data"))
    parser.add_argument("--out", default=None,
                        help="model folder (default: the shipped one of the recipe: nlp/artifacts/sentiment_frozen "
                             "for a frozen head, nlp/artifacts/sentiment with --finetune)")
    parser.add_argument("--C", type=float, default=2.0)
    parser.add_argument("--max-train", type=int, default=None,
                        help="first N ids of the seeded shuffle of the pool, before drops (default: all)")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--extra", default="", metavar="A,B",
                        help=f"add labelled posts from other sets: {', '.join(EXTRA_SETS)} (default: none)")
    parser.add_argument("--extra-max", type=int, default=20_000, metavar="N",
                        help="at most N posts per extra set, a seeded sample (default 20000)")
    parser.add_argument("--embeddings-cache", default=None, metavar="DIR")
    parser.add_argument("--skip-airline", action="store_true")
    parser.add_argument("--no-lexicon-features", action="store_true", help="embedding only (no VADER numbers)")
    parser.add_argument("--finetune", action="store_true", help="full fine-tune (GPU recommended)")
    parser.add_argument("--epochs", type=int, default=3)
    parser.add_argument("--lr", type=float, default=3e-5)
    parser.add_argument("--encoder", default="minilm",
                        help="minilm (default) or minilm-l2, the distilled student (with --finetune: tuned from it)")
    parser.add_argument("--limit", type=int, default=None, help="--finetune on the first N tweets only (smoke run)")
    parser.add_argument("--holdout", type=float, default=0.0, metavar="FRAC",
                        help="--finetune: keep a seeded, stratified FRAC of the pool out of training and report "
                             "its macro-recall (to choose settings on; default 0: train on all)")
    parser.add_argument("--distill", action="store_true",
                        help="--finetune by distillation: tune all-MiniLM-L6-v2 first (--teacher-epochs, "
                             "--teacher-lr), then tune --encoder on its probabilities (see distilled_head)")
    parser.add_argument("--teacher-epochs", type=int, default=3)
    parser.add_argument("--teacher-lr", type=float, default=3e-5)
    parser.add_argument("--alpha", type=float, default=0.5, help="--distill: weight of the gold labels (default 0.5)")
    parser.add_argument("--unlabelled", default="", metavar="A,B",
                        help=f"--distill: texts the teacher labels for the student: some of {', '.join(EXTRA_SETS)} "
                             "(their own labels unused; at most --extra-max each)")
    parser.add_argument("--tuned-encoder", default=None, metavar="DIR",
                        help="--finetune: fit the head on this tuned encoder (a folder or a tuned student artifact, "
                             "e.g. tuned on a GPU machine) instead of tuning one")
    parser.add_argument("--device", default="auto", choices=("auto", "cpu", "cuda"),
                        help="where --finetune trains and encodes (default auto: CUDA when torch sees a GPU)")
    args = parser.parse_args(argv)
    if not 0 <= args.alpha <= 1:
        parser.error(f"--alpha is a weight in [0, 1], got {args.alpha}")
    if (args.distill or args.tuned_encoder or args.holdout) and not args.finetune:
        parser.error("--distill, --tuned-encoder and --holdout go with --finetune")
    if args.distill and args.tuned_encoder:
        parser.error("--distill tunes an encoder; --tuned-encoder uses one tuned already: give one of them")
    if args.unlabelled and not args.distill:
        parser.error("--unlabelled texts are labelled by the teacher of --distill")
    if args.out is None:
        artifacts = Path(__file__).resolve().parents[1] / "nlp" / "artifacts"
        args.out = str(artifacts / ("sentiment" if args.finetune else "sentiment_frozen"))
    logging.basicConfig(level=logging.INFO, format="%(message)s")
    metrics = finetune(args) if args.finetune else train_head(args)
    sys.stdout.write(json.dumps(metrics, indent=2) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
