"""Text classifiers: the request-type model, trainable heads over encoder vectors, zero-shot classifiers
and their evaluation."""

from __future__ import annotations

from cxlens.nlp.classify._classifier import (  # noqa: F401
    HEADS,
    TextClassifier,
    fit_temperature,
    load_classifier,
)
from cxlens.nlp.classify._classifier_files import CLASSIFIER_FILES, legacy_heads  # noqa: F401
from cxlens.nlp.classify._evaluation import (  # noqa: F401
    evaluate_classifier,
    write_evaluation,
)
from cxlens.nlp.classify._request_types import (  # noqa: F401
    BANKING77_MAP,
    BITEXT_MAP,
    DEFAULT_MODEL_DIR,
    OUT_OF_SCOPE_PROBES,
    REQUEST_TYPES,
    build_training_frame,
    load_default_model,
    train_default_model,
)
from cxlens.nlp.classify._zeroshot import (  # noqa: F401
    FewShotClassifier,
    ZeroShotClassifier,
    label_texts,
)

__all__ = [
    "BANKING77_MAP",
    "BITEXT_MAP",
    "CLASSIFIER_FILES",
    "DEFAULT_MODEL_DIR",
    "FewShotClassifier",
    "HEADS",
    "OUT_OF_SCOPE_PROBES",
    "REQUEST_TYPES",
    "TextClassifier",
    "ZeroShotClassifier",
    "build_training_frame",
    "evaluate_classifier",
    "fit_temperature",
    "label_texts",
    "legacy_heads",
    "load_classifier",
    "load_default_model",
    "train_default_model",
    "write_evaluation",
]
