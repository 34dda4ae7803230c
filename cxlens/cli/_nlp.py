"""``cxlens train classifier``, ``cxlens train request-types``, ``cxlens predict``, ``cxlens evaluate``."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

__all__ = ["add_commands"]

HEAD_CHOICES = ("logreg", "tfidf", "ensemble", "finetune")


def add_commands(sub: argparse._SubParsersAction, *, train: argparse._SubParsersAction) -> None:
    clf = train.add_parser("classifier", help="train a text classifier (request types, topics, any labels)")
    clf.add_argument("--data", required=True, metavar="FILE", help="labelled texts (CSV, JSONL, JSON, Parquet)")
    clf.add_argument("--text-col", required=True, metavar="COL")
    clf.add_argument("--label-col", required=True, metavar="COL",
                     help="label column; with --multi-label, labels joined by --label-sep (or several 0/1 columns "
                          "given as --label-col a,b,c)")
    clf.add_argument("--multi-label", action="store_true", help="a text can have several labels (one-vs-rest)")
    clf.add_argument("--label-sep", default="|", help="separator of several labels in one cell (default '|')")
    clf.add_argument("--head", choices=HEAD_CHOICES, default="logreg",
                     help="logreg on MiniLM embeddings (default), tfidf linear, both averaged, or finetune: tune the "
                          "MiniLM encoder itself on the labels first (slow on CPU; uses a GPU when there is one)")
    clf.add_argument("--encoder", default="minilm", help="encoder name: minilm (ONNX int8 when available), "
                                                       "minilm-torch, minilm-onnx, tfidf")
    clf.add_argument("--threshold", default=None,
                     help="confidence below which the label is 'other' (multi-label: per-label keep threshold, "
                          "or 'auto' to tune one per label)")
    clf.add_argument("--C", type=float, default=None, help="inverse regularisation of the logistic regression")
    clf.add_argument("--epochs", type=int, default=4, help="--head finetune: passes over the data (default 4)")
    clf.add_argument("--lr", type=float, default=5e-5, help="--head finetune: peak learning rate (default 5e-5)")
    clf.add_argument("--loss", choices=("cross-entropy", "contrastive"), default="cross-entropy",
                     help="--head finetune: cross-entropy through a linear layer, or supervised contrastive "
                          "(single-label; better with a handful of examples per label)")
    clf.add_argument("--device", choices=("auto", "cpu", "cuda"), default="auto",
                     help="--head finetune: where to train (auto: CUDA when torch sees a GPU)")
    clf.add_argument("--seed", type=int, default=0, help="random seed of the folds and the fine-tuning")
    clf.add_argument("--out", required=True, metavar="DIR", help="folder for the saved model")
    clf.add_argument("--tracking-uri", default=None,
                     help="MLflow tracking URI (default: a local file store ./mlruns)")
    clf.add_argument("--experiment", default="cxlens-classifier", help="MLflow experiment name")
    clf.add_argument("--register-name", default=None, help="register the pyfunc model under this name")
    clf.add_argument("--no-tracking", action="store_true", help="do not log to MLflow")
    clf.set_defaults(func=train_classifier_cmd)

    rt = train.add_parser("request-types", help="retrain the shipped request-type model from ../shared/data")
    rt.add_argument("--data-dir", required=True, metavar="DIR", help="folder with bitext/ and banking77/")
    rt.add_argument("--out", required=True, metavar="DIR",
                    help="model folder (the shipped one: nlp/artifacts/request_type)")
    rt.add_argument("--threshold", type=float, default=0.3)
    rt.add_argument("--C", type=float, default=10.0)
    rt.add_argument("--min-similarity", type=float, default=0.45,
                    help="cosine to the nearest training anchor below which a text is 'other'")
    rt.set_defaults(func=train_request_types_cmd)

    pred = sub.add_parser("predict", help="label texts with a saved classifier")
    pred.add_argument("--model", default="request-type", metavar="DIR",
                      help="a model folder from 'cxlens train classifier', or 'request-type' (the shipped model)")
    pred.add_argument("--input", required=True, metavar="FILE")
    pred.add_argument("--text-col", required=True, metavar="COL")
    pred.add_argument("--output", required=True, metavar="FILE", help="input plus label and confidence columns")
    pred.add_argument("--label-col-name", default="label", help="name of the added label column (default: label)")
    pred.set_defaults(func=predict_cmd)

    ev = sub.add_parser("evaluate", help="accuracy, macro-F1, per-class report and confusion matrix of a model")
    ev.add_argument("--model", default="request-type", metavar="DIR")
    ev.add_argument("--data", required=True, metavar="FILE")
    ev.add_argument("--text-col", required=True, metavar="COL")
    ev.add_argument("--label-col", required=True, metavar="COL")
    ev.add_argument("--label-sep", default="|")
    ev.add_argument("--out", default="cxlens-evaluation", metavar="DIR")
    ev.set_defaults(func=evaluate_cmd)


def _read(path: str, columns: list[str]):
    from cxlens.errors import MissingColumnsError
    from cxlens.io import read_frame

    frame, _ = read_frame(path)
    missing = [c for c in columns if c not in frame.columns]
    if missing:
        raise MissingColumnsError(table="input", missing=missing, source=path,
                                  present=[c for c in frame.columns if not c.startswith("_")])
    return frame


def _labels(frame, label_col: str, *, multi_label: bool, sep: str):
    """Single-label: a column. Multi-label: 'a|b' cells, or several 0/1 columns 'a,b,c'."""
    cols = [c.strip() for c in label_col.split(",") if c.strip()]
    if multi_label and len(cols) > 1:
        flags = frame[cols].fillna(0).astype(str).isin(["1", "1.0", "True", "true", "yes"])
        return [tuple(c for c in cols if row[c]) for _, row in flags.iterrows()]
    values = frame[cols[0]].fillna("").astype(str)
    if multi_label:
        return [tuple(v.strip() for v in cell.split(sep) if v.strip()) for cell in values]
    return values.to_numpy(dtype=object)


def _threshold(raw: str | None):
    if raw is None or raw == "auto":
        return raw
    try:
        return float(raw)
    except ValueError as exc:
        from cxlens.errors import ConfigError

        raise ConfigError(f"--threshold must be a number or 'auto', got {raw!r}.") from exc


def train_classifier_cmd(args: argparse.Namespace) -> int:
    import time

    from cxlens.nlp.classify import TextClassifier

    cols = [args.text_col] + [c.strip() for c in args.label_col.split(",") if c.strip()]
    frame = _read(args.data, cols)
    y = _labels(frame, args.label_col, multi_label=args.multi_label, sep=args.label_sep)
    texts = frame[args.text_col].fillna("").astype(str).tolist()
    model = TextClassifier(encoder=args.encoder, head=args.head, multi_label=args.multi_label,
                           threshold=_threshold(args.threshold), C=args.C, epochs=args.epochs,
                           learning_rate=args.lr, device=args.device, random_state=args.seed,
                           finetune_options={"loss": args.loss} if args.head == "finetune" else None)
    t0 = time.perf_counter()
    from cxlens.cli._common import StageProgress

    with StageProgress(quiet=getattr(args, "quiet", False)) as progress:
        model.fit(texts, y, progress=progress)
    fit_s = time.perf_counter() - t0
    model.save(args.out)
    sys.stderr.write(f"cxlens: trained {args.head} classifier on {len(texts):,} texts, {len(model.classes_)} labels "
                     f"in {fit_s:.1f}s; saved to {args.out}\n")
    if not args.no_tracking:
        _track(args, model, {"n_texts": len(texts), "n_labels": len(model.classes_), "fit_seconds": fit_s,
                             "temperature": model.temperature_})
    return 0


def _track(args: argparse.Namespace, model, metrics: dict) -> None:
    """Params, metrics, the model folder and the model itself (sklearn flavour, so also a pyfunc) to MLflow."""
    from cxlens.tracking import log_run

    params = dict(model.get_params())
    params.update({"data": str(args.data), "text_col": args.text_col, "label_col": args.label_col,
                   "classes": ",".join(map(str, model.classes_))})
    run = log_run(experiment=args.experiment, params=params, metrics=metrics, artifacts=[args.out], model=model,
                  registered_name=args.register_name, tracking_uri=args.tracking_uri,
                  tags={"cxlens.model": "text_classifier"})
    where = f"; registered as {run.alias_uri}" if run.alias_uri else ""
    sys.stderr.write(f"cxlens: logged MLflow run {run.run_id} to {run.tracking_uri}{where}\n")


def train_request_types_cmd(args: argparse.Namespace) -> int:
    import json

    from cxlens.nlp.classify import train_default_model

    _, metrics = train_default_model(args.data_dir, out_dir=args.out, threshold=args.threshold, C=args.C,
                                     min_similarity=args.min_similarity)
    (Path(args.out) / "metrics.json").write_text(json.dumps(metrics, indent=2) + "\n")
    sys.stdout.write(json.dumps({k: v for k, v in metrics.items() if k not in ("report",)}, indent=2) + "\n")
    return 0


def _load_model(ref: str):
    if ref in ("request-type", "request_type", "default"):
        from cxlens.nlp.classify import load_default_model

        return load_default_model()
    from cxlens.nlp.classify import load_classifier

    return load_classifier(ref)


def predict_cmd(args: argparse.Namespace) -> int:
    from cxlens.io import write_table

    model = _load_model(args.model)
    frame = _read(args.input, [args.text_col])
    texts = frame[args.text_col].fillna("").astype(str).tolist()
    out = frame[[c for c in frame.columns if c not in ("_source", "_row")]].copy()
    if model.multi_label:
        proba = model.predict_proba(texts)
        keep = proba >= model.thresholds_
        for j, label in enumerate(model.classes_):
            out[str(label)] = keep[:, j].astype(int)
            out[f"{label}_confidence"] = proba[:, j].round(4)
        out[args.label_col_name] = ["|".join(s) for s in model.predict_label_sets(texts)]
        out["confidence"] = proba.max(axis=1).round(4)
    else:
        labels, conf = model.predict_confidence(texts)
        out[args.label_col_name] = labels
        out["confidence"] = conf.round(4)
    write_table(out, args.output)
    sys.stderr.write(f"cxlens: labelled {len(out):,} texts; written to {args.output}\n")
    return 0


def evaluate_cmd(args: argparse.Namespace) -> int:
    import json

    from cxlens.nlp.classify import evaluate_classifier, write_evaluation

    model = _load_model(args.model)
    cols = [args.text_col] + [c.strip() for c in args.label_col.split(",") if c.strip()]
    frame = _read(args.data, cols)
    y = _labels(frame, args.label_col, multi_label=model.multi_label, sep=args.label_sep)
    texts = frame[args.text_col].fillna("").astype(str).tolist()
    result = evaluate_classifier(model, texts, y)
    paths = write_evaluation(result, args.out)
    scalars = {k: v for k, v in result.items() if k not in ("report", "confusion")}
    sys.stdout.write(json.dumps(scalars, indent=2) + "\n")
    sys.stderr.write(f"cxlens: evaluation written to {paths['metrics'].parent}\n")
    return 0
