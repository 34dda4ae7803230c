"""BANKING77 intent accuracy with cxlens heads on frozen MiniLM embeddings (+ few-shot, + int8 parity).

    python benchmarks/bench_banking77.py                 # fixed stratified 80/20 dev split (seed 0)
    python benchmarks/bench_banking77.py --cv 5 --heads logreg,ensemble   # 5-fold CV of chosen heads
    python benchmarks/bench_banking77.py --fewshot-only
    python benchmarks/bench_banking77.py --finetune full --epochs 3           # head=finetune on the dev split
    python benchmarks/bench_banking77.py --finetune fewshot --loss contrastive --epochs 10

Data: ``../shared/data/banking77/train.csv`` (10,003 queries, 77 intents; the official test split is
held back, so numbers are on our own split of the train file and are not directly the paper's test
numbers). Published: 93.66 (BERT-Large fine-tuned, full data), 85.19 (10 examples per intent).

Accuracy is the argmax of ``predict_proba`` (no ``other`` threshold). Prints one line per result.
"""

from __future__ import annotations

import argparse
import os
import time
from pathlib import Path

import numpy as np

os.environ.setdefault("HF_HUB_OFFLINE", "1")


def load(data: Path):
    import pandas as pd

    df = pd.read_csv(data / "banking77" / "train.csv")
    return df["text"].astype(str).to_numpy(dtype=object), df["category"].astype(str).to_numpy(dtype=object)


def cached_embeddings(enc, name: str, texts: list[str], cache: str) -> np.ndarray:
    """Encode (or load from ``cache``) and put the vectors into the encoder's in-run cache."""
    import hashlib

    path = None
    if cache:
        digest = hashlib.sha1("\n".join(texts).encode()).hexdigest()[:12]
        path = Path(cache) / f"{name}-{digest}.npy"
        if path.is_file():
            emb = np.load(path)
            print(f"loaded {len(texts)} {name} embeddings from {path}", flush=True)
            return emb
    t0 = time.perf_counter()
    emb = enc.encode(texts)  # every head below is given these vectors
    print(f"encoded {len(texts)} texts with {name} ({getattr(enc, 'backend_', None)}) "
          f"in {time.perf_counter() - t0:.1f}s ({len(texts) / (time.perf_counter() - t0):.0f} texts/s, shared CPU)",
          flush=True)
    if path is not None:
        path.parent.mkdir(parents=True, exist_ok=True)
        np.save(path, emb)
    return emb


def fit_eval(head: str, X_tr, y_tr, X_te, y_te, *, encoder: str, C=None) -> tuple[float, float, float, object]:
    from sklearn.metrics import accuracy_score, f1_score

    from cxlens.nlp.classify import TextClassifier

    clf = TextClassifier(encoder=encoder, head=head, C=C, calibration="temperature" if head == "ensemble" else "none")
    t0 = time.perf_counter()
    clf.fit(X_tr, y_tr)
    fit_s = time.perf_counter() - t0
    pred = clf.classes_[clf.predict_proba(X_te).argmax(1)]
    return accuracy_score(y_te, pred), f1_score(y_te, pred, average="macro"), fit_s, clf


def fewshot(texts, y, tr, te, *, shots: int, seeds: list[int], encoder: str) -> None:
    from sklearn.metrics import accuracy_score

    from cxlens.nlp.classify import FewShotClassifier

    for method in ("prototype", "logreg", "both"):
        accs = []
        for seed in seeds:
            rng = np.random.default_rng(seed)
            pick = []
            for c in np.unique(y[tr]):
                idx = tr[y[tr] == c]
                pick.extend(rng.choice(idx, size=min(shots, len(idx)), replace=False))
            pick = np.asarray(pick)
            clf = FewShotClassifier(encoder=encoder, method=method).fit(list(texts[pick]), y[pick])
            accs.append(accuracy_score(y[te], clf.predict(list(texts[te]))))
        print(f"fewshot shots={shots} method={method:9s} acc={np.mean(accs) * 100:.2f} "
              f"(+/- {np.std(accs) * 100:.2f} over seeds {seeds})")


def finetuned(texts, y, tr, te, *, mode: str, seeds: list[int], shots: int, encoder: str, epochs: int, lr: float,
              loss: str, batch_size: int, cpu_eval: bool = False) -> None:
    """head=finetune (MiniLM tuned end to end, then the logreg head) on the dev split or k-shot picks; also its
    average with the TF-IDF head (calibrated log-probabilities), and the tuned encoder's speed on the dev texts."""
    from sklearn.metrics import accuracy_score, f1_score

    from cxlens.nlp.classify import TextClassifier

    accs, ens = [], []
    for seed in seeds if mode == "fewshot" else seeds[:1]:
        pick = tr
        if mode == "fewshot":
            rng = np.random.default_rng(seed)
            pick = np.concatenate([rng.choice(tr[y[tr] == c], size=shots, replace=False) for c in np.unique(y[tr])])
        clf = TextClassifier(encoder=encoder, head="finetune", epochs=epochs, learning_rate=lr, random_state=seed,
                             finetune_options={"loss": loss, "batch_size": batch_size})
        t0 = time.perf_counter()
        clf.fit(list(texts[pick]), y[pick])
        fit_s = time.perf_counter() - t0
        t0 = time.perf_counter()
        proba = clf.predict_proba(list(texts[te]))
        speed = len(te) / (time.perf_counter() - t0)
        pred = clf.classes_[proba.argmax(1)]
        accs.append(accuracy_score(y[te], pred))
        tf = TextClassifier(encoder=encoder, head="tfidf").fit(list(texts[pick]), y[pick])
        avg = np.log(np.clip(proba, 1e-12, 1)) + np.log(np.clip(tf.predict_proba(list(texts[te])), 1e-12, 1))
        ens.append(accuracy_score(y[te], clf.classes_[avg.argmax(1)]))
        print(f"finetune {mode} seed={seed} loss={loss} epochs={epochs} lr={lr:g}: acc={accs[-1] * 100:.2f} "
              f"macroF1={f1_score(y[te], pred, average='macro') * 100:.2f}; + tfidf head acc={ens[-1] * 100:.2f}; "
              f"fit {fit_s:.0f}s on {len(pick)} texts; predict {speed:.0f} texts/s ({enc.backend_})", flush=True)
        if cpu_eval and clf.device != "cpu":
            # the model as it runs on a machine without a GPU: the same head on the CPU encoder (int8 ONNX)
            clf.device = "cpu"
            cpu_proba = clf.predict_proba(list(texts[te]))
            cpu_pred = clf.classes_[cpu_proba.argmax(1)]
            cpu_avg = np.log(np.clip(cpu_proba, 1e-12, 1)) + np.log(np.clip(tf.predict_proba(list(texts[te])),
                                                                             1e-12, 1))
            print(f"finetune {mode} seed={seed} on cpu ({clf._encoder().backend_}): "
                  f"acc={accuracy_score(y[te], cpu_pred) * 100:.2f}; + tfidf head acc="
                  f"{accuracy_score(y[te], clf.classes_[cpu_avg.argmax(1)]) * 100:.2f}; "
                  f"agrees with {enc.backend_} on {np.mean(cpu_pred == pred) * 100:.2f}%", flush=True)
    print(f"finetune {mode} mean over seeds: acc={np.mean(accs) * 100:.2f} (+/- {np.std(accs) * 100:.2f}); "
          f"+ tfidf {np.mean(ens) * 100:.2f}", flush=True)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--data", default=str(Path(__file__).resolve().parents[2] / "shared" / "data"))
    ap.add_argument("--encoder", default="minilm", help="registered encoder name (minilm = ONNX int8 when available)")
    ap.add_argument("--heads", default="logreg,tfidf,ensemble")
    ap.add_argument("--cv", type=int, default=0, help="k-fold CV instead of the fixed dev split")
    ap.add_argument("--C", default="", help="comma list of C values to try for the logreg head (dev split)")
    ap.add_argument("--shots", type=int, default=10)
    ap.add_argument("--seeds", default="0,1,2")
    ap.add_argument("--fewshot-only", action="store_true")
    ap.add_argument("--no-fewshot", action="store_true")
    ap.add_argument("--no-fit-time", action="store_true", help="skip timing the head fit on all 10k texts")
    ap.add_argument("--finetune", choices=("full", "fewshot"), default=None,
                    help="only run head=finetune: on the whole dev-split training part, or on --shots per intent")
    ap.add_argument("--epochs", type=int, default=3)
    ap.add_argument("--lr", type=float, default=5e-5)
    ap.add_argument("--loss", default="cross-entropy", choices=("cross-entropy", "contrastive"))
    ap.add_argument("--ft-batch", type=int, default=32)
    ap.add_argument("--cpu-eval", action="store_true",
                    help="--finetune on a GPU: also score the dev split with the CPU encoder (int8 ONNX)")
    ap.add_argument("--parity", action="store_true", help="also compare heads on torch fp32 vs the encoder")
    ap.add_argument("--emb-cache", default="", metavar="DIR",
                    help="keep embeddings here between runs (the CPU is shared: encoding 10k texts takes minutes)")
    args = ap.parse_args()

    from sklearn.model_selection import StratifiedKFold, train_test_split

    from cxlens.nlp.encoders import get_encoder

    texts, y = load(Path(args.data))
    if args.finetune:
        idx = np.arange(len(y))
        tr, te = train_test_split(idx, test_size=0.2, stratify=y, random_state=0)
        finetuned(texts, y, tr, te, mode=args.finetune, seeds=[int(s) for s in args.seeds.split(",")],
                  shots=args.shots, encoder=args.encoder, epochs=args.epochs, lr=args.lr, loss=args.loss,
                  batch_size=args.ft_batch, cpu_eval=args.cpu_eval)
        return
    enc = get_encoder(args.encoder)
    emb = cached_embeddings(enc, args.encoder, list(texts), args.emb_cache)
    idx = np.arange(len(y))
    tr, te = train_test_split(idx, test_size=0.2, stratify=y, random_state=0)
    seeds = [int(s) for s in args.seeds.split(",")]
    if args.fewshot_only:
        fewshot(texts, y, tr, te, shots=args.shots, seeds=seeds, encoder=args.encoder)
        return
    heads = [h for h in args.heads.split(",") if h]
    if args.cv:
        folds = list(StratifiedKFold(args.cv, shuffle=True, random_state=0).split(idx, y))
        for head in heads:
            accs, f1s = [], []
            for a, b in folds:
                acc, f1, fit_s, _ = fit_eval(head, texts[a], y[a], texts[b], y[b], encoder=args.encoder)
                accs.append(acc)
                f1s.append(f1)
            print(f"cv{args.cv} head={head:9s} acc={np.mean(accs) * 100:.2f} (+/- {np.std(accs) * 100:.2f}) "
                  f"macroF1={np.mean(f1s) * 100:.2f}")
        return
    print(f"dev split: train {len(tr)}, dev {len(te)} (stratified, seed 0)")
    for c in [float(v) for v in args.C.split(",") if v]:
        acc, f1, fit_s, _ = fit_eval("logreg", emb[tr], y[tr], emb[te], y[te], encoder=args.encoder, C=c)
        print(f"dev head=logreg C={c:g} acc={acc * 100:.2f} macroF1={f1 * 100:.2f} fit={fit_s:.1f}s")
    if heads:
        # One ensemble fit (both heads + their temperatures on 3-fold out-of-fold logits) gives all three
        # numbers: each head alone and the average of their calibrated log-probabilities.
        from sklearn.metrics import accuracy_score, f1_score

        from cxlens.nlp.classify import TextClassifier

        clf = TextClassifier(encoder=args.encoder, head="ensemble")
        t0 = time.perf_counter()
        clf.fit(texts[tr], y[tr])
        print(f"ensemble fit (2 heads x (3 calibration folds + 1)) on {len(tr)} texts: "
              f"{time.perf_counter() - t0:.1f}s; temperatures {clf.temperatures_}", flush=True)
        inputs = clf._inputs(texts[te], clf.heads_)
        logits = {kind: clf._logits(est, inputs[kind]) for kind, est in clf.heads_.items()}
        for name, parts in (("logreg", ["emb"]), ("tfidf", ["tfidf"]), ("ensemble", ["emb", "tfidf"])):
            t0 = time.perf_counter()
            proba = clf._combine({k: logits[k] for k in parts})
            pred = clf.classes_[proba.argmax(1)]
            print(f"dev head={name:9s} acc={accuracy_score(y[te], pred) * 100:.2f} "
                  f"macroF1={f1_score(y[te], pred, average='macro') * 100:.2f}", flush=True)
        t0 = time.perf_counter()
        clf.predict_proba(texts[te])
        print(f"ensemble predict, texts encoded again (encoders keep no vectors): {len(te) / (time.perf_counter() - t0):.0f} texts/s",
              flush=True)
    if args.parity:
        # the same logreg head (trained on the default encoder's vectors) applied to the dev texts
        # encoded by torch fp32 and by the default encoder: how often do the predictions agree?
        from cxlens.nlp.classify import TextClassifier

        torch_dev = cached_embeddings(get_encoder("minilm-torch"), "minilm-torch", list(texts[te]), args.emb_cache)
        cos = (torch_dev * emb[te]).sum(1)
        a = TextClassifier(encoder=args.encoder, calibration="none").fit(emb[tr], y[tr])
        pa = a.classes_[a.predict_proba(emb[te]).argmax(1)]
        pt = a.classes_[a.predict_proba(torch_dev).argmax(1)]
        print(f"parity cosine {args.encoder} vs torch fp32 on {len(te)} dev texts: mean {cos.mean():.4f} "
              f"min {cos.min():.4f}")
        print(f"parity logreg head on fp32 vs {args.encoder} vectors: agree {np.mean(pa == pt) * 100:.2f}%; "
              f"acc {np.mean(pt == y[te]) * 100:.2f} (fp32) vs {np.mean(pa == y[te]) * 100:.2f}", flush=True)
        from cxlens.nlp.classify import load_default_model

        shipped = load_default_model()
        sa, st = (shipped.predict_proba(v).argmax(1) for v in (emb[te], torch_dev))
        print(f"parity shipped request-type model on fp32 vs {args.encoder} vectors: agree "
              f"{np.mean(sa == st) * 100:.2f}%", flush=True)
    if not args.no_fit_time:  # head training time on 10k texts (full train file, embeddings cached)
        from cxlens.nlp.classify import TextClassifier as _TC

        t0 = time.perf_counter()
        _TC(encoder=args.encoder, calibration="none").fit(emb, y)
        print(f"logreg head fit on {len(y)} texts, no calibration: {time.perf_counter() - t0:.1f}s", flush=True)
        t0 = time.perf_counter()
        _TC(encoder=args.encoder).fit(emb, y)
        print(f"logreg head fit on {len(y)} texts incl. temperature calibration (3 extra folds): "
              f"{time.perf_counter() - t0:.1f}s", flush=True)
    if not args.no_fewshot:
        fewshot(texts, y, tr, te, shots=args.shots, seeds=seeds, encoder=args.encoder)


if __name__ == "__main__":
    main()
