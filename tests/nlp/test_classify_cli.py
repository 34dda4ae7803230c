"""``cxlens train classifier``, ``cxlens predict``, ``cxlens evaluate`` end to end (TF-IDF, tiny data)."""

from __future__ import annotations

import importlib.util
import json

import pandas as pd
import pytest

from cxlens.cli import main

ROWS = [("cancel my order please", "cancel"), ("i want to cancel", "cancel"), ("cancel subscription now", "cancel"),
        ("stop my order", "cancel"), ("where is my package", "delivery"), ("package not delivered", "delivery"),
        ("track my delivery", "delivery"), ("delivery is late", "delivery"), ("my password does not work", "account"),
        ("cannot log in", "account"), ("reset password", "account"), ("login failed", "account")]


@pytest.fixture
def data(tmp_path):
    frame = pd.DataFrame(ROWS * 2, columns=["body", "intent"])
    frame["tags"] = frame["intent"] + ["|urgent" if i % 3 == 0 else "" for i in range(len(frame))]
    path = tmp_path / "train.csv"
    frame.to_csv(path, index=False)
    return path


def test_classify_cli_train_predict_evaluate(data, tmp_path):
    model = tmp_path / "model"
    assert main(["train", "classifier", "--data", str(data), "--text-col", "body", "--label-col", "intent",
                 "--head", "tfidf", "--encoder", "tfidf", "--out", str(model), "--no-tracking"]) == 0
    assert (model / "params.json").is_file()
    out = tmp_path / "pred.csv"
    assert main(["predict", "--model", str(model), "--input", str(data), "--text-col", "body",
                 "--output", str(out)]) == 0
    pred = pd.read_csv(out)
    assert {"body", "intent", "label", "confidence"} <= set(pred.columns)
    assert (pred["label"] == pred["intent"]).mean() > 0.9
    ev = tmp_path / "ev"
    assert main(["evaluate", "--model", str(model), "--data", str(data), "--text-col", "body",
                 "--label-col", "intent", "--out", str(ev)]) == 0
    metrics = json.loads((ev / "metrics.json").read_text())
    assert metrics["accuracy"] > 0.9 and "macro_f1" in metrics
    assert {"per_class.csv", "confusion_matrix.csv", "confusion_matrix.png"} <= {p.name for p in ev.iterdir()}


def test_classify_cli_multilabel_columns(data, tmp_path):
    model = tmp_path / "ml"
    assert main(["train", "classifier", "--data", str(data), "--text-col", "body", "--label-col", "tags",
                 "--multi-label", "--encoder", "tfidf", "--out", str(model), "--no-tracking"]) == 0
    out = tmp_path / "pred.csv"
    assert main(["predict", "--model", str(model), "--input", str(data), "--text-col", "body", "--output", str(out)]) == 0
    pred = pd.read_csv(out)
    assert {"account", "cancel", "delivery", "urgent", "label", "confidence"} <= set(pred.columns)
    assert set(pred["cancel"].unique()) <= {0, 1}
    ev = tmp_path / "ev"
    assert main(["evaluate", "--model", str(model), "--data", str(data), "--text-col", "body",
                 "--label-col", "tags", "--out", str(ev)]) == 0
    assert "micro_f1" in json.loads((ev / "metrics.json").read_text())


def test_classify_cli_missing_column_is_a_clean_error(data, tmp_path, capsys):
    code = main(["train", "classifier", "--data", str(data), "--text-col", "text", "--label-col", "intent",
                 "--encoder", "tfidf", "--out", str(tmp_path / "m"), "--no-tracking"])
    assert code == 2
    assert "text" in capsys.readouterr().err


@pytest.mark.skipif(importlib.util.find_spec("mlflow") is None, reason="needs mlflow (cxlens[tracking])")
def test_classify_cli_logs_to_mlflow(data, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    uri = (tmp_path / "mlruns").as_uri()
    assert main(["train", "classifier", "--data", str(data), "--text-col", "body", "--label-col", "intent",
                 "--encoder", "tfidf", "--head", "tfidf", "--out", str(tmp_path / "m"), "--tracking-uri", uri,
                 "--experiment", "test-clf", "--register-name", "test-intents"]) == 0
    import mlflow

    mlflow.set_tracking_uri(uri)
    runs = mlflow.search_runs(experiment_names=["test-clf"])
    assert len(runs) == 1
    assert runs["params.head"].iloc[0] == "tfidf" and runs["metrics.n_texts"].iloc[0] == len(ROWS) * 2
    assert runs["params.calibration_groups"].iloc[0].startswith("none")  # no --source-col: folds by label
    model = mlflow.pyfunc.load_model("models:/test-intents@champion")
    out = model.predict(pd.DataFrame({"text": ["cancel my order please"]}))
    assert list(out) == ["cancel"]


EMAIL_ROWS = [("Please terminate the contract effective immediately", "cancel"),
              ("I no longer wish to continue, terminate it", "cancel"), ("Kindly terminate my membership", "cancel"),
              ("The courier never came with the parcel", "delivery"), ("Parcel still missing after a week", "delivery"),
              ("Courier left the parcel at the wrong house", "delivery"), ("Locked out after too many attempts", "account"),
              ("Two-factor code never arrives, locked out", "account"), ("My credentials are rejected", "account")]


def test_classify_cli_source_col_calibrates_for_an_unseen_source(tmp_path):
    frame = pd.DataFrame(ROWS * 2 + EMAIL_ROWS * 2, columns=["body", "intent"])
    frame["channel"] = ["chat"] * (2 * len(ROWS)) + ["email"] * (2 * len(EMAIL_ROWS))
    data = tmp_path / "train.csv"
    frame.to_csv(data, index=False)
    args = ["train", "classifier", "--data", str(data), "--text-col", "body", "--label-col", "intent",
            "--head", "tfidf", "--encoder", "tfidf", "--no-tracking"]
    assert main([*args, "--out", str(tmp_path / "plain")]) == 0
    assert main([*args, "--out", str(tmp_path / "by_source"), "--source-col", "channel"]) == 0
    plain, by_source = (json.loads((tmp_path / m / "params.json").read_text()) for m in ("plain", "by_source"))
    # the chat and email wordings share no word: a model trained on one is unsure on the other
    assert by_source["temperatures"]["tfidf"] > 1.5 * plain["temperatures"]["tfidf"]


@pytest.mark.skipif(importlib.util.find_spec("mlflow") is None, reason="needs mlflow (cxlens[tracking])")
def test_classify_cli_logs_the_folds_its_confidences_were_calibrated_on(tmp_path, monkeypatch):
    import mlflow

    monkeypatch.chdir(tmp_path)
    uri = (tmp_path / "mlruns").as_uri()
    frame = pd.DataFrame(ROWS * 2 + EMAIL_ROWS * 2, columns=["body", "intent"])
    frame["channel"] = ["chat"] * (2 * len(ROWS)) + ["email"] * (2 * len(EMAIL_ROWS))
    frame.to_csv(tmp_path / "train.csv", index=False)
    only_chat = frame[frame["intent"] != "account"].assign(channel="chat")  # one source: nothing to hold out
    only_chat.to_csv(tmp_path / "one_source.csv", index=False)
    for data, experiment in (("train.csv", "by-source"), ("one_source.csv", "one-source")):
        assert main(["train", "classifier", "--data", str(tmp_path / data), "--text-col", "body", "--label-col",
                     "intent", "--head", "tfidf", "--encoder", "tfidf", "--source-col", "channel", "--out",
                     str(tmp_path / experiment), "--tracking-uri", uri, "--experiment", experiment]) == 0
    mlflow.set_tracking_uri(uri)
    logged = {e: mlflow.search_runs(experiment_names=[e])["params.calibration_groups"].iloc[0]
              for e in ("by-source", "one-source")}
    assert logged["by-source"] == "channel"
    assert logged["one-source"].startswith("none (stratified folds") and "could not be used" in logged["one-source"]


def test_classify_cli_source_col_errors(data, tmp_path, capsys):
    args = ["train", "classifier", "--data", str(data), "--text-col", "body", "--label-col", "intent",
            "--encoder", "tfidf", "--no-tracking", "--source-col"]
    assert main([*args, "brand", "--out", str(tmp_path / "m")]) == 2
    assert "brand" in capsys.readouterr().err


def test_predict_and_evaluate_keep_unreadable_records_in_a_quarantine_file(data, tmp_path):
    model = tmp_path / "m"
    assert main(["train", "classifier", "--data", str(data), "--text-col", "body", "--label-col", "intent",
                 "--head", "tfidf", "--encoder", "tfidf", "--out", str(model), "--no-tracking"]) == 0
    broken = tmp_path / "broken.csv"
    broken.write_bytes(b'body,intent\n"cancel my order please",cancel\n"a "broken quote,cancel\n'
                       b"where is my parcel,delivery\nbad \xff byte,delivery\n")
    out = tmp_path / "typed.csv"
    assert main(["predict", "--model", str(model), "--input", str(broken), "--text-col", "body",
                 "--output", str(out)]) == 0
    kept, quarantined = pd.read_csv(out), pd.read_csv(tmp_path / "typed.quarantine.csv")
    assert len(kept) + len(quarantined) == 4 and len(quarantined) == 2
    assert quarantined["_reason"].str.contains("quote").any() and quarantined["_reason"].str.contains("utf-8").any()
    assert main(["evaluate", "--model", str(model), "--data", str(broken), "--text-col", "body", "--label-col",
                 "intent", "--out", str(tmp_path / "ev")]) == 0
    assert len(pd.read_csv(tmp_path / "ev" / "quarantine" / "input.csv")) == 2


def test_predict_refuses_to_overwrite_its_input_as_its_quarantine_file(data, tmp_path, capsys):
    """Feeding a fixed quarantine file back (``--input typed.quarantine.csv --output typed.csv``) must not delete
    it: the quarantine path of that output is the input."""
    model = tmp_path / "m"
    assert main(["train", "classifier", "--data", str(data), "--text-col", "body", "--label-col", "intent",
                 "--head", "tfidf", "--encoder", "tfidf", "--out", str(model), "--no-tracking"]) == 0
    fed_back = tmp_path / "typed.quarantine.csv"
    fed_back.write_text("body\ncancel my order please\n", encoding="utf-8")
    code = main(["predict", "--model", str(model), "--input", str(fed_back), "--text-col", "body",
                 "--output", str(tmp_path / "typed.csv")])
    assert code != 0 and fed_back.read_text(encoding="utf-8").startswith("body")
    assert main(["predict", "--model", str(model), "--input", str(data), "--text-col", "body",
                 "--output", str(tmp_path / "typed")]) != 0  # no format: refused before any work
    assert not (tmp_path / "typed.quarantine.csv").exists() or fed_back.exists()
