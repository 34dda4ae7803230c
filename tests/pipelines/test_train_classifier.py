"""The classifier training job called as plain functions (TF-IDF encoder: no model needed)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from cxlens.errors import MissingColumnsError
from cxlens.pipelines.train import (
    TrainedModel,
    classifier_evaluation,
    classifier_labels,
    predicted_labels,
    trained_classifier,
)

ROWS = [("cancel my order please", "cancel"), ("i want to cancel", "cancel"), ("cancel subscription now", "cancel"),
        ("stop my order", "cancel"), ("where is my package", "delivery"), ("package not delivered", "delivery"),
        ("track my delivery", "delivery"), ("delivery is late", "delivery"), ("my password does not work", "account"),
        ("cannot log in", "account"), ("reset password", "account"), ("login failed", "account")]


@pytest.fixture
def frame() -> pd.DataFrame:
    return pd.DataFrame(ROWS * 2, columns=["body", "intent"])


def test_train_classifier_from_a_frame_and_a_file_agree(frame, tmp_path):
    trained = trained_classifier(frame, text_col="body", label_col="intent", head="tfidf", encoder="tfidf")
    assert isinstance(trained, TrainedModel)
    assert trained.n_texts == len(frame) and trained.fit_seconds >= 0
    assert (trained.data, trained.text_col, trained.label_col) == ("<DataFrame>", "body", "intent")
    assert sorted(trained.model.classes_) == ["account", "cancel", "delivery"]
    path = tmp_path / "train.csv"
    frame.to_csv(path, index=False)
    from_file = trained_classifier(path, text_col="body", label_col="intent", head="tfidf", encoder="tfidf")
    assert from_file.data == str(path)
    texts = frame["body"].tolist()
    np.testing.assert_allclose(from_file.model.predict_proba(texts), trained.model.predict_proba(texts), atol=1e-9)


def test_train_classifier_predict_and_evaluate(frame):
    model = trained_classifier(frame, text_col="body", label_col="intent", head="tfidf", encoder="tfidf").model
    out = predicted_labels(model, frame, text_col="body", label_col_name="predicted")
    assert list(out.columns) == ["body", "intent", "predicted", "confidence"]
    assert (out["predicted"] == out["intent"]).mean() > 0.9
    result = classifier_evaluation(model, frame, text_col="body", label_col="intent")
    assert result["accuracy"] > 0.9 and "macro_f1" in result


def test_train_classifier_multi_label_from_flag_columns(frame):
    frame = frame.assign(urgent=[int(i % 3 == 0) for i in range(len(frame))],
                         cancel=(frame["intent"] == "cancel").astype(int))
    assert classifier_labels(frame.head(1), "cancel,urgent", multi_label=True) == [("cancel", "urgent")]
    assert classifier_labels(pd.DataFrame({"t": ["a| b", None]}), "t", multi_label=True) == [("a", "b"), ()]
    model = trained_classifier(frame, text_col="body", label_col="cancel,urgent", multi_label=True,
                               encoder="tfidf").model
    out = predicted_labels(model, frame, text_col="body")
    assert {"cancel", "urgent", "cancel_confidence", "label", "confidence"} <= set(out.columns)
    assert set(out["cancel"].unique()) <= {0, 1}


def test_train_classifier_missing_column_names_it(frame):
    with pytest.raises(MissingColumnsError, match="text"):
        trained_classifier(frame, text_col="text", label_col="intent", encoder="tfidf")
