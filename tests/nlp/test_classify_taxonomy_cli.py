"""``cxlens taxonomy check|review``, ``train classifier --taxonomy``, ``predict --taxonomy`` and
``score --request-types`` end to end: stdout carries only the asked-for data, problems go to stderr with lines."""

from __future__ import annotations

import pandas as pd
import pytest

from cxlens._csv_safety import write_csv
from cxlens.cli import main

TAXONOMY = """\
name: shop
labels:
  refund:
    description: the customer wants money back
  shipping_delivery:
    description: a parcel has not arrived or delivery questions
  cancellation:
    description: the customer wants to cancel an order or a subscription
"""
ROWS = [("I want my money back", "refund"), ("refund my order please", "refund"), ("where is my refund", "refund"),
        ("my parcel has not arrived", "shipping_delivery"), ("the courier lost my delivery", "shipping_delivery"),
        ("tracking says delivered but nothing came", "shipping_delivery"), ("cancel my subscription", "cancellation"),
        ("stop my membership now", "cancellation"), ("please cancel the plan", "cancellation")]


@pytest.fixture
def files(tmp_path):
    tax = tmp_path / "shop.yaml"
    tax.write_text(TAXONOMY, encoding="utf-8")
    data = tmp_path / "labelled.csv"
    write_csv(pd.DataFrame(ROWS * 2, columns=["text", "label"]), data)
    more = tmp_path / "review.csv"  # a half-filled review file: the empty label is skipped
    write_csv(pd.DataFrame({"text": ["money back for the broken kettle", "what a lovely day"],
                            "label": ["refund", ""]}), more)
    return tax, data, more


def test_taxonomy_check_prints_the_plan_or_every_problem(files, tmp_path, capsys):
    tax, _, _ = files
    assert main(["taxonomy", "check", str(tax)]) == 0
    out, err = capsys.readouterr()
    assert out.strip() == f"{tax}: ok: 3 labels + 'other' (abstain), 0 examples; classifies zero-shot" and err == ""
    bad = tmp_path / "bad.toml"
    bad.write_text('name = "x"\n[labels.refund]\ndescription = "money"\nexamples = "ok"\n[labels.Bad]\n'
                   'description = "y"\n', encoding="utf-8")
    assert main(["taxonomy", "check", str(bad)]) == 2
    out, err = capsys.readouterr()
    assert out == ""
    assert f"error: {bad}:5: label name 'Bad' must be lower case" in err
    assert "`labels` must map at least two" not in err  # one bad label is reported as itself


def test_train_predict_and_review_with_a_taxonomy(files, tmp_path, capsys):
    tax, data, more = files
    model = tmp_path / "model"
    assert main(["train", "classifier", "--taxonomy", str(tax), "--data", str(data), "--data", str(more),
                 "--text-col", "text", "--label-col", "label", "--encoder", "tfidf", "--out", str(model),
                 "--no-tracking"]) == 0
    assert "on 19 texts" in capsys.readouterr().err  # 18 + the one filled review row
    assert (model / "taxonomy.yaml").is_file() and (model / "params.json").is_file()
    out = tmp_path / "pred.csv"
    assert main(["predict", "--taxonomy", str(model), "--input", str(data), "--text-col", "text",
                 "--output", str(out)]) == 0
    pred = pd.read_csv(out)
    assert {"label", "confidence", "secondary", "secondary_confidence"} <= set(pred.columns)
    assert (pred["label"] == pred["label"].where(pred["label"].isin({r[1] for r in ROWS}))).all()
    review = tmp_path / "review_out.csv"
    assert main(["taxonomy", "review", "--input", str(data), "--text-col", "text", "--taxonomy", str(model),
                 "--n", "5", "--out", str(review)]) == 0
    picks = pd.read_csv(review, keep_default_na=False)
    assert len(picks) == 5 and (picks["label"] == "").all() and picks["why"].ne("").all()
    assert main(["predict", "--taxonomy", str(model), "--model", str(model), "--input", str(data), "--text-col",
                 "text", "--output", str(tmp_path / "x.csv")]) == 2  # one of the two


def test_train_with_a_label_outside_the_taxonomy_is_refused(files, tmp_path, capsys):
    tax, _, _ = files
    data = tmp_path / "other_labels.csv"
    write_csv(pd.DataFrame(ROWS + [("hello", "greeting")], columns=["text", "label"]), data)
    assert main(["train", "classifier", "--taxonomy", str(tax), "--data", str(data), "--text-col", "text",
                 "--label-col", "label", "--encoder", "tfidf", "--out", str(tmp_path / "m"), "--no-tracking"]) != 0
    err = capsys.readouterr().err
    assert "not in the taxonomy" in err and "greeting" in err


@pytest.mark.slow
@pytest.mark.needs_minilm
def test_score_with_a_zero_shot_taxonomy_writes_its_labels_and_a_second_type(files, small_archive, tmp_path):
    from cxlens.pipelines.score import read_scored

    tax, _, _ = files
    out = tmp_path / "scored"
    assert main(["-q", "score", "--archive", str(small_archive), "--request-types", str(tax), "--out", str(out),
                 "--limit", "30", "--skip", "topic", "--fast"]) == 0
    tickets = read_scored(out, tables=["tickets"]).tickets
    assert set(tickets["request_type"].dropna()) <= {"refund", "shipping_delivery", "cancellation", "other"}
    assert {"request_type_secondary", "request_type_secondary_confidence"} <= set(tickets.columns)
    bad = tmp_path / "bad.yaml"
    bad.write_text("labels: {refund: x}\n", encoding="utf-8")
    assert main(["-q", "score", "--archive", str(small_archive), "--request-types", str(bad), "--out",
                 str(tmp_path / "o2")]) == 2


def test_train_with_a_taxonomy_calibrates_by_source(files, tmp_path):
    """--source-col with --taxonomy: the rows without a label are skipped with their source, and the
    confidences are calibrated for a source left out of training."""
    tax, data, _ = files
    email = [("Kindly reimburse the amount charged", "refund"), ("Reimbursement still pending", "refund"),
             ("Courier never turned up with the box", "shipping_delivery"),
             ("Box missing, courier unreachable", "shipping_delivery"), ("Terminate the contract", "cancellation"),
             ("Contract termination request", "cancellation")]
    frame = pd.concat([pd.DataFrame(ROWS * 2, columns=["text", "label"]).assign(channel="chat"),
                       pd.DataFrame(email * 2, columns=["text", "label"]).assign(channel="email"),
                       pd.DataFrame({"text": ["no label here"], "label": [""], "channel": ["email"]})])
    both = tmp_path / "both.csv"
    write_csv(frame, both)
    args = ["train", "classifier", "--taxonomy", str(tax), "--data", str(both), "--text-col", "text",
            "--label-col", "label", "--encoder", "tfidf", "--no-tracking"]
    assert main([*args, "--out", str(tmp_path / "plain")]) == 0
    assert main([*args, "--out", str(tmp_path / "by_source"), "--source-col", "channel"]) == 0
    import json

    plain, by_source = (json.loads((tmp_path / m / "params.json").read_text()) for m in ("plain", "by_source"))
    assert by_source["temperatures"]["emb"] > 1.5 * plain["temperatures"]["emb"]
