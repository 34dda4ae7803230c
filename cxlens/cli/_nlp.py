"""``cxlens train classifier``, ``cxlens train request-types``, ``cxlens predict``, ``cxlens evaluate``."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from cxlens.cli._common import LEGACY_CLASSIFIER, add_trust_model_arg

__all__ = ["add_commands"]

HEAD_CHOICES = ("logreg", "tfidf", "ensemble", "finetune")


def add_commands(sub: argparse._SubParsersAction, *, train: argparse._SubParsersAction) -> None:
    clf = train.add_parser("classifier", help="train a text classifier (request types, topics, any labels)")
    clf.add_argument("--data", required=True, action="append", metavar="FILE",
                     help="labelled texts (CSV, JSONL, JSON, Parquet); repeat to add files, e.g. a filled "
                          "`cxlens taxonomy review` CSV (rows with an empty label are skipped with --taxonomy)")
    clf.add_argument("--taxonomy", metavar="FILE",
                     help="a taxonomy file: the labels must be its labels; the saved folder holds the model and "
                          "a taxonomy.yaml that `predict --taxonomy` and `score --request-types` read")
    clf.add_argument("--text-col", required=True, metavar="COL")
    clf.add_argument("--label-col", required=True, metavar="COL",
                     help="label column; with --multi-label, labels joined by --label-sep (or several 0/1 columns "
                          "given as --label-col a,b,c)")
    clf.add_argument("--source-col", metavar="COL",
                     help="column naming where each text comes from (channel, brand, data set): confidences are "
                          "calibrated on predictions for sources left out of training, so they hold on new ones")
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
    rt.add_argument("--data-dir", required=True, metavar="DIR",
                    help="folder with bitext/, banking77/, clinc150/ and ibm_twitter_cdp/ (../shared/data)")
    rt.add_argument("--out", required=True, metavar="DIR",
                    help="model folder (the shipped one: nlp/artifacts/request_type)")
    rt.add_argument("--threshold", type=float, default=None, help="confidence below which a text is 'other' "
                                                                  "(default: the shipped setting)")
    rt.add_argument("--C", type=float, default=None, help="inverse regularisation (default: the shipped setting)")
    rt.add_argument("--reviewed", action="append", default=[], metavar="FILE",
                    help="a filled `cxlens taxonomy review` file (text, label) to train on as well; repeatable")
    rt.add_argument("--min-similarity", type=float, default=None,
                    help="cosine to the nearest training anchor below which a text is 'other'")
    rt.set_defaults(func=train_request_types_cmd)

    pred = sub.add_parser("predict", help="label texts with a saved classifier")
    pred.add_argument("--taxonomy", metavar="FILE",
                      help="classify with a taxonomy file (zero-shot from descriptions, few-shot from examples, "
                           "or its trained model) instead of --model; adds secondary and secondary_confidence")
    pred.add_argument("--model", default="request-type", metavar="DIR",
                      help="a model folder from 'cxlens train classifier', or 'request-type' (the shipped model)")
    pred.add_argument("--input", required=True, metavar="FILE")
    pred.add_argument("--text-col", required=True, metavar="COL")
    pred.add_argument("--output", required=True, metavar="FILE", help="input plus label and confidence columns")
    pred.add_argument("--label-col-name", default="label", help="name of the added label column (default: label)")
    add_trust_model_arg(pred, what=LEGACY_CLASSIFIER)
    pred.set_defaults(func=predict_cmd)

    ev = sub.add_parser("evaluate", help="accuracy, macro-F1, per-class report and confusion matrix of a model")
    ev.add_argument("--model", default="request-type", metavar="DIR")
    ev.add_argument("--data", required=True, metavar="FILE")
    ev.add_argument("--text-col", required=True, metavar="COL")
    ev.add_argument("--label-col", required=True, metavar="COL")
    ev.add_argument("--label-sep", default="|")
    ev.add_argument("--out", default="cxlens-evaluation", metavar="DIR")
    add_trust_model_arg(ev, what=LEGACY_CLASSIFIER)
    ev.set_defaults(func=evaluate_cmd)


def _threshold(raw: str | None):
    if raw is None or raw == "auto":
        return raw
    try:
        return float(raw)
    except ValueError as exc:
        from cxlens.errors import ConfigError

        raise ConfigError(f"--threshold must be a number or 'auto', got {raw!r}.") from exc


def train_classifier_cmd(args: argparse.Namespace) -> int:
    from cxlens.cli._common import StageProgress
    from cxlens.pipelines.train import tracked_classifier_run, trained_classifier

    from cxlens._outdir import prepare_output_dir

    prepare_output_dir(args.out, inputs=[*args.data, args.taxonomy], create=False)
    threshold = _threshold(args.threshold)
    if args.taxonomy:
        return _train_taxonomy(args, threshold)
    if len(args.data) > 1:
        from cxlens.errors import ConfigError

        raise ConfigError("--data is given more than once: several files are read with --taxonomy; without it, "
                          "give one file or a folder of files.")
    with StageProgress(quiet=getattr(args, "quiet", False)) as progress:
        trained = trained_classifier(args.data[0], text_col=args.text_col, label_col=args.label_col,
                                     multi_label=args.multi_label, label_sep=args.label_sep, head=args.head,
                                     encoder=args.encoder, threshold=threshold, C=args.C, epochs=args.epochs,
                                     learning_rate=args.lr, loss=args.loss, device=args.device,
                                     random_state=args.seed, source_col=args.source_col, progress=progress)
    model = trained.model
    model.save(args.out)
    sys.stderr.write(f"cxlens: trained {args.head} classifier on {trained.n_texts:,} texts, {len(model.classes_)} "
                     f"labels in {trained.fit_seconds:.1f}s; saved to {args.out}\n")
    if not args.no_tracking:
        run = tracked_classifier_run(trained, model_dir=args.out, experiment=args.experiment,
                                     registered_name=args.register_name, tracking_uri=args.tracking_uri)
        where = f"; registered as {run.alias_uri}" if run.alias_uri else ""
        sys.stderr.write(f"cxlens: logged MLflow run {run.run_id} to {run.tracking_uri}{where}\n")
    return 0


def _train_taxonomy(args: argparse.Namespace, threshold) -> int:
    from dataclasses import replace

    from cxlens.pipelines.train import tracked_classifier_run, trained_taxonomy_classifier

    if args.multi_label or args.head != "logreg":
        from cxlens.errors import ConfigError

        raise ConfigError("--taxonomy trains the single-label default head; leave out --multi-label and --head.")
    options = {"threshold": threshold, "C": args.C, "random_state": args.seed}
    trained = trained_taxonomy_classifier(args.taxonomy, args.data, text_col=args.text_col, label_col=args.label_col,
                                          encoder=args.encoder, source_col=args.source_col,
                                          train_options={k: v for k, v in options.items() if v is not None})
    trained.model.save(args.out)
    sys.stderr.write(f"cxlens: trained the taxonomy {trained.model.taxonomy_.name} on {trained.n_texts:,} texts in "
                     f"{trained.fit_seconds:.1f}s; saved to {args.out} (use --taxonomy {args.out})\n")
    if not args.no_tracking:
        run = tracked_classifier_run(replace(trained, model=trained.model.model_), model_dir=args.out,
                                     experiment=args.experiment, registered_name=args.register_name,
                                     tracking_uri=args.tracking_uri)
        sys.stderr.write(f"cxlens: logged MLflow run {run.run_id} to {run.tracking_uri}\n")
    return 0


def train_request_types_cmd(args: argparse.Namespace) -> int:
    import json

    from cxlens.pipelines.train import trained_request_types

    metrics = trained_request_types(args.data_dir, out_dir=args.out, threshold=args.threshold, C=args.C,
                                    min_similarity=args.min_similarity, reviewed=args.reviewed)
    sys.stdout.write(json.dumps({k: v for k, v in metrics.items() if k not in ("report",)}, indent=2) + "\n")
    return 0


def predict_cmd(args: argparse.Namespace) -> int:
    from cxlens.io import write_table
    from cxlens.pipelines.train import predicted_labels, saved_classifier

    from cxlens._outdir import prepare_output_file

    prepare_output_file(args.output, inputs=[args.input, args.model, args.taxonomy], param="output")
    if args.taxonomy:
        from cxlens.pipelines.train import taxonomy_classifier

        if args.model != "request-type":
            from cxlens.errors import ConfigError

            raise ConfigError("Give --taxonomy or --model, not both: a taxonomy file names its own model.")
        model = taxonomy_classifier(args.taxonomy, trust_model=args.trust_model)
    else:
        model = saved_classifier(args.model, trust_model=args.trust_model)
    from cxlens._outdir import check_not_input
    from cxlens.io import file_format

    file_format(Path(args.output))  # a name whose format cannot be told fails here, before any work
    quarantine = Path(args.output).with_name(Path(args.output).stem + ".quarantine.csv")
    check_not_input(quarantine, [args.input, args.model, args.taxonomy], param="output")  # its own input, fed back
    quarantine.unlink(missing_ok=True)  # an earlier run's: this run writes its own when a record is unreadable
    out = predicted_labels(model, args.input, text_col=args.text_col, label_col_name=args.label_col_name,
                           quarantine=quarantine)
    write_table(out, args.output)
    sys.stderr.write(f"cxlens: labelled {len(out):,} texts; written to {args.output}"
                     + (f" (unreadable records: {quarantine})" if quarantine.exists() else "") + "\n")
    return 0


def evaluate_cmd(args: argparse.Namespace) -> int:
    import json

    from cxlens.nlp.classify import write_evaluation
    from cxlens.pipelines.train import classifier_evaluation, saved_classifier

    from cxlens._outdir import prepare_output_dir

    prepare_output_dir(args.out, inputs=[args.data, args.model], create=False)
    model = saved_classifier(args.model, trust_model=args.trust_model)
    quarantine = Path(args.out) / "quarantine" / "input.csv"
    quarantine.unlink(missing_ok=True)  # an earlier evaluation's
    result = classifier_evaluation(model, args.data, text_col=args.text_col, label_col=args.label_col,
                                   label_sep=args.label_sep, quarantine=quarantine)
    paths = write_evaluation(result, args.out)
    scalars = {k: v for k, v in result.items() if k not in ("report", "confusion")}
    sys.stdout.write(json.dumps(scalars, indent=2) + "\n")
    sys.stderr.write(f"cxlens: evaluation written to {paths['metrics'].parent}\n")
    return 0
