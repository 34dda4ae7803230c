"""Taxonomy files (``cxlens.nlp.classify._taxonomy``) and the TaxonomyClassifier over them: every problem with its
line, the three modes through one interface, the ``other`` policy, keywords, second labels, saving and the review
list. The TF-IDF encoder keeps these fast; the shipped taxonomy is checked against its model."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from sklearn.base import clone

from cxlens.errors import ConfigError, DataError
from cxlens.nlp.classify import (
    DEFAULT_TAXONOMY,
    REQUEST_TYPES,
    TaxonomyClassifier,
    check_taxonomy,
    load_classifier,
    load_taxonomy,
    second_labels,
)
from cxlens.pipelines.train import review_candidates

GOOD = """\
name: shop
other:
  label: other
labels:
  refund:
    description: money back refund reimbursement
    keywords: [chargeback]
  shipping:
    description: parcel delivery courier tracking arrived
  cancel: cancel subscription stop membership
"""

GOOD_TOML = """\
name = "shop"
[other]
label = "other"
[labels.refund]
description = "money back refund reimbursement"
[labels.shipping]
description = "parcel delivery courier tracking arrived"
[labels.cancel]
description = "cancel subscription stop membership"
"""

EXAMPLES = {
    "refund": ["I want my money back", "refund my order please", "where is my refund"],
    "shipping": ["my parcel has not arrived", "courier lost the delivery", "tracking says delivered but nothing"],
    "cancel": ["cancel my subscription", "stop my membership now", "please cancel the plan"],
}


def write(tmp_path, text: str, name: str = "tax.yaml"):
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def with_examples(tmp_path):
    lines = ["name: shop", "labels:"]
    for label, texts in EXAMPLES.items():
        lines += [f"  {label}:", f"    description: {label} requests", "    examples:"]
        lines += [f"      - {t}" for t in texts]
    return write(tmp_path, "\n".join(lines) + "\n", "few.yaml")


def test_taxonomy_yaml_and_toml_read_the_same(tmp_path):
    a = load_taxonomy(write(tmp_path, GOOD))
    b = load_taxonomy(write(tmp_path, GOOD_TOML, "tax.toml"))
    assert a.names == b.names == ("refund", "shipping", "cancel")
    assert a.descriptions()["cancel"] == "cancel subscription stop membership"  # a bare string is the description
    assert a.keywords() == {"refund": ("chargeback",)} and a.policy == "abstain" and a.model is None


def test_taxonomy_check_lists_every_problem_with_its_line(tmp_path):
    bad = write(tmp_path, "name: x\ncolour: blue\nother:\n  label: Other Things\n  policy: maybe\n"
                          "  min_confidence: 2\nlabels:\n  refund:\n    description: money back\n"
                          "    examples: ['where is my parcel']\n  shipping:\n    description: ''\n"
                          "  other:\n    description: out of scope\n")
    errors = check_taxonomy(bad).errors
    found = {e.split(": ", 1)[0].rsplit(":", 1)[1]: e for e in errors}
    assert set(found) == {"2", "4", "5", "6", "11", "13"}, errors
    assert "unknown key 'colour'" in found["2"] and "policy 'maybe'" in found["5"]
    assert "needs a one-line `description`" in found["11"]
    with pytest.raises(ConfigError, match="6 problems in the taxonomy"):
        load_taxonomy(bad)


def test_taxonomy_check_catches_repeated_keys_and_shared_examples(tmp_path):
    twice = write(tmp_path, "labels:\n  refund: a\n  cancel: b\n  refund: c\n")
    assert check_taxonomy(twice).errors == [f"{twice}:4: the key 'refund' is given twice in the same section; keep one."]
    shared = write(tmp_path, "labels:\n  refund:\n    description: a\n    examples: [Cancel it]\n"
                             "  cancel:\n    description: b\n    examples: ['cancel  it']\n", "shared.yaml")
    (error,) = check_taxonomy(shared).errors
    assert error.startswith(f"{shared}:7:") and "also an example of 'refund'" in error


def test_taxonomy_modes_auto_zero_few_and_errors(tmp_path):
    zero = TaxonomyClassifier(taxonomy=write(tmp_path, GOOD), encoder="tfidf").fit()
    assert zero.mode_ == "zero-shot"
    few = TaxonomyClassifier(taxonomy=with_examples(tmp_path), encoder="tfidf").fit()
    assert few.mode_ == "few-shot"
    assert list(few.predict(["refund my money back please", "the courier never delivered my parcel"])) == [
        "refund", "shipping"]
    with pytest.raises(ConfigError, match="names no trained `model`"):
        TaxonomyClassifier(taxonomy=write(tmp_path, GOOD), mode="trained").fit()
    with pytest.raises(ConfigError, match="needs examples"):
        TaxonomyClassifier(taxonomy=write(tmp_path, GOOD), mode="few-shot").fit()
    assert clone(few).get_params() == few.get_params()


def test_taxonomy_policy_never_and_keywords(tmp_path):
    never = write(tmp_path, GOOD.replace("  label: other\n", "  label: other\n  policy: never\n"), "never.yaml")
    texts = ["zzz qqq unrelated words", "chargeback on my parcel"]
    abstain = TaxonomyClassifier(taxonomy=write(tmp_path, GOOD), encoder="tfidf").fit()
    assert abstain.predict(texts)[0] == "other"
    always = TaxonomyClassifier(taxonomy=never, encoder="tfidf").fit()
    assert "other" not in set(always.predict(texts))
    off = TaxonomyClassifier(taxonomy=write(tmp_path, GOOD), encoder="tfidf", keyword_boost=1.0).fit()
    p_off = off.predict_proba(texts)[1]
    p_on = abstain.predict_proba(texts)[1]
    refund = list(abstain.classes_).index("refund")
    assert p_on[refund] > p_off[refund] * 1.5  # the keyword made refund more likely


def test_taxonomy_trained_on_labels_saves_a_folder_that_is_a_taxonomy(tmp_path):
    texts = [t for ts in EXAMPLES.values() for t in ts] * 3
    labels = [lab for lab, ts in EXAMPLES.items() for _ in ts] * 3
    model = TaxonomyClassifier(taxonomy=write(tmp_path, GOOD), encoder="tfidf",
                               train_options={"head": "tfidf"}).fit(texts, labels)
    assert model.mode_ == "trained"
    folder = model.save(tmp_path / "model")
    again = TaxonomyClassifier(taxonomy=folder).fit()
    assert again.mode_ == "trained" and load_taxonomy(folder).model == folder.resolve()
    probe = ["refund my order please", "cancel my subscription"]
    np.testing.assert_allclose(again.predict_proba(probe), model.predict_proba(probe))
    with pytest.raises(DataError, match="not in the taxonomy"):
        TaxonomyClassifier(taxonomy=write(tmp_path, GOOD), encoder="tfidf").fit(texts, ["refund", "nope"] * 13 + ["x"])
    # the folder's model must know the file's labels: a renamed label is an error with the model line
    tax = folder / "taxonomy.yaml"
    tax.write_text(tax.read_text().replace("  cancel:", "  stop:"))
    (error,) = check_taxonomy(tax).errors
    assert "not in the taxonomy: cancel" in error and "never trained: stop" in error


def test_second_labels_never_other_and_never_for_other():
    classes = np.array(["a", "b", "other"], dtype=object)
    proba = np.array([[0.5, 0.4, 0.1], [0.6, 0.1, 0.3], [0.2, 0.3, 0.5]])
    primary = np.array(["a", "a", "other"], dtype=object)
    labels, conf = second_labels(proba, classes, primary, other_label="other", min_probability=0.25)
    assert list(labels) == ["b", None, None]
    assert conf[0] == pytest.approx(0.4) and np.isnan(conf[1])


def test_taxonomy_annotate_gives_a_second_label_when_close(tmp_path):
    model = TaxonomyClassifier(taxonomy=with_examples(tmp_path), encoder="tfidf", secondary_min=0.2).fit()
    notes = model.annotate(["cancel my subscription and refund my money back", "my parcel has not arrived"])
    assert list(notes.columns) == ["label", "confidence", "secondary", "secondary_confidence"]
    assert {notes["label"][0], notes["secondary"][0]} == {"cancel", "refund"}


def test_review_candidates_says_why_and_clusters_what_goes_to_other(tmp_path):
    model = TaxonomyClassifier(taxonomy=write(tmp_path, GOOD), encoder="tfidf").fit()
    texts = ([f"weather forecast rain {i}" for i in range(8)] + [f"football match score {i}" for i in range(8)]
             + ["refund money back", "parcel delivery late", "cancel membership", "refund parcel"])
    picks = review_candidates(model, texts, n=10, ids=list(range(len(texts))))
    assert len(picks) == 10 and picks["label"].eq("").all()
    assert set(picks["why"]) <= {"close_call", "low_confidence", "other_cluster"}
    assert picks["id"].is_unique and picks["text"].is_unique
    others = picks[picks["why"] == "other_cluster"]
    assert len(others) >= 2 and (others["predicted"] == "other").all()


def test_shipped_taxonomy_matches_request_types_and_its_model():
    tax = load_taxonomy(DEFAULT_TAXONOMY)
    assert tax.model == DEFAULT_TAXONOMY.parent.resolve()
    assert {**tax.descriptions(), "other": tax.other_description} == REQUEST_TYPES
    model = load_classifier(DEFAULT_TAXONOMY.parent)
    assert set(model.classes_) == set(tax.names) | {"other"}
    assert check_taxonomy(DEFAULT_TAXONOMY).errors == []


def test_textclassifier_sample_weight_and_calibration_rows_are_checked():
    from cxlens.nlp.classify import TextClassifier

    X = np.array([[1.0, 0.0], [0.9, 0.1], [0.0, 1.0], [0.1, 0.9], [0.5, 0.5], [0.55, 0.45]] * 3)
    y = np.array(["a", "a", "b", "b", "a", "b"] * 3, dtype=object)
    plain = TextClassifier(threshold=0.0, cv=2).fit(X, y)
    heavy = TextClassifier(threshold=0.0, cv=2).fit(X, y, sample_weight=np.where(y == "b", 20.0, 1.0))
    mid = np.array([[0.52, 0.48]])
    assert heavy.predict_proba(mid)[0, 1] > plain.predict_proba(mid)[0, 1]
    with pytest.raises(DataError, match="sample_weight has 2 values for 18 rows"):
        TextClassifier().fit(X, y, sample_weight=[1, 2])
    with pytest.raises(DataError, match="selects no row"):
        TextClassifier().fit(X, y, calibrate_on=np.zeros(len(y), dtype=bool))
    assert isinstance(pd.DataFrame(plain.annotate(mid)), pd.DataFrame)


def _two_sources(seed: int = 0):
    """Two labels, two sources: 'shifted' moves label a towards b's side, so a model trained without it is
    confidently wrong there."""
    rng = np.random.default_rng(seed)
    parts = []
    for shift in (0.0, 0.9):
        k = rng.integers(0, 2, 200)
        sign = np.where(k == 1, 1.0, -1.0)
        parts.append((np.c_[sign + shift, -sign - shift] + rng.normal(0, 0.3, (200, 2)), k))
    X = np.r_[parts[0][0], parts[1][0]]
    y = np.array(["a", "b"], dtype=object)[np.r_[parts[0][1], parts[1][1]]]
    return X, y, np.array(["clean"] * 200 + ["shifted"] * 200, dtype=object)


def test_textclassifier_calibration_groups_learn_how_sure_to_be_on_an_unseen_source():
    from cxlens.nlp.classify import TextClassifier

    X, y, source = _two_sources()
    stratified = TextClassifier(threshold=0.0).fit(X, y)
    grouped = TextClassifier(threshold=0.0).fit(X, y, calibration_groups=source)
    # leaving a source out shows the model is often wrong on a source it has not seen: less sure
    assert grouped.temperatures_["emb"] > 1.5 * stratified.temperatures_["emb"]
    # the heads themselves are fitted on every row either way: same labels, only the confidence differs
    assert (grouped.predict(X) == stratified.predict(X)).all()
    assert grouped.predict_proba(X).max(1).mean() < stratified.predict_proba(X).max(1).mean()


def test_textclassifier_calibration_groups_fall_back_when_a_source_holds_a_whole_label(caplog):
    from cxlens.nlp.classify import TextClassifier

    X, y, source = _two_sources()
    source = np.where(y == "b", "only_b", source)  # leaving 'only_b' out leaves b with no training row
    with caplog.at_level("WARNING"):
        grouped = TextClassifier(threshold=0.0).fit(X, y, calibration_groups=source)
    assert "no training row" in caplog.text
    assert grouped.temperatures_ == TextClassifier(threshold=0.0).fit(X, y).temperatures_
    with pytest.raises(ConfigError, match="frozen encoder"):
        TextClassifier(head="finetune").fit([f"text {i}" for i in range(len(y))], y, calibration_groups=source)
    with pytest.raises(DataError, match="calibration_groups has 3 values for 400 rows"):
        TextClassifier().fit(X, y, calibration_groups=["a", "b", "c"])
    with pytest.raises(ConfigError, match="single-label"):
        TextClassifier(multi_label=True).fit(X, [[v] for v in y], calibration_groups=source)


def test_calibration_group_folds_missing_values_many_groups_and_calibration_rows():
    from cxlens.nlp.classify._calibration import GroupFolds, group_keys

    assert list(group_keys(["a", None, np.nan, pd.NA, 1, 1.0, 2.5])) == ["a", "", "", "", "1", "1", "2.5"]
    X, y, source = _two_sources()
    Y = (y == "b").astype(int)
    groups = np.array(["clean", None] * 200, dtype=object)  # a missing source is a group of its own
    folds = GroupFolds.of(groups, Y)
    assert [len(te) for _, te in folds.split()] == [200, 200]
    many = np.arange(400) % 40  # 40 sources: cv folds of whole sources, not 40 fits
    parts = list(GroupFolds.of(many, Y, cv=5).split())
    assert len(parts) == 5 and sorted(np.concatenate([te for _, te in parts]).tolist()) == list(range(400))
    assert all(not set(many[tr]) & set(many[te]) for tr, te in parts)
    # only the folds holding calibration rows are fitted
    calib = np.zeros(400, dtype=bool)
    calib[source == "shifted"] = True
    held = [te for _, te in GroupFolds.of(source, Y, calibrate_on=calib).split()]
    assert len(held) == 1 and (source[held[0]] == "shifted").all()
    from cxlens.nlp.classify import TextClassifier

    nan_groups = np.where(source == "shifted", np.nan, source).astype(object)
    assert TextClassifier(threshold=0.0).fit(X, y, calibration_groups=nan_groups).temperatures_["emb"] > 1.0
