"""Training jobs as plain functions (Hamilton style: each named for what it returns); the CLI's
``cxlens train ...``, ``cxlens evaluate`` and ``cxlens predict`` only parse arguments, call these and
write the results."""

from __future__ import annotations

from cxlens.pipelines.train._classifier import (  # noqa: F401
    classifier_evaluation,
    classifier_labels,
    label_columns,
    predicted_labels,
    saved_classifier,
    tracked_classifier_run,
    trained_classifier,
    trained_request_types,
)
from cxlens.pipelines.train._inputs import (  # noqa: F401
    TrainedModel,
    input_frame,
)
from cxlens.pipelines.train._review import review_candidates  # noqa: F401
from cxlens.pipelines.train._sentiment import (  # noqa: F401
    tracked_sentiment_run,
    trained_sentiment,
)
from cxlens.pipelines.train._taxonomy import (  # noqa: F401
    labelled_texts,
    review_list,
    taxonomy_classifier,
    trained_taxonomy_classifier,
)

__all__ = [
    "TrainedModel",
    "classifier_evaluation",
    "classifier_labels",
    "input_frame",
    "label_columns",
    "labelled_texts",
    "predicted_labels",
    "review_candidates",
    "review_list",
    "saved_classifier",
    "taxonomy_classifier",
    "tracked_classifier_run",
    "tracked_sentiment_run",
    "trained_classifier",
    "trained_request_types",
    "trained_sentiment",
    "trained_taxonomy_classifier",
]
