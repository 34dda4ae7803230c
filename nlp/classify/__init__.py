"""Text classifiers: the request-type model, trainable heads over encoder vectors, zero-shot classifiers
and their evaluation."""

from __future__ import annotations

from cxlens.nlp.classify._classifier import (  # noqa: F401
    HEADS,
    TextClassifier,
    fit_temperature,
    load_classifier,
    second_labels,
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
    DEFAULT_PARAMS,
    OUT_OF_SCOPE_PROBES,
    REQUEST_TYPES,
    load_default_model,
    train_default_model,
)
from cxlens.nlp.classify._request_type_data import (  # noqa: F401
    CLINC150_MAP,
    CLINC150_UNUSED,
    build_training_frame,
)
from cxlens.nlp.classify._taxonomy import (  # noqa: F401
    DEFAULT_TAXONOMY,
    Taxonomy,
    TaxonomyCheck,
    TaxonomyLabel,
    check_taxonomy,
    find_taxonomy_file,
    load_taxonomy,
    write_taxonomy,
)
from cxlens.nlp.classify._taxonomy_model import MODES as TAXONOMY_MODES  # noqa: F401
from cxlens.nlp.classify._taxonomy_model import TaxonomyClassifier, planned_mode  # noqa: F401
from cxlens.nlp.classify._zeroshot import (  # noqa: F401
    FewShotClassifier,
    ZeroShotClassifier,
    label_texts,
)

__all__ = [
    "BANKING77_MAP",
    "BITEXT_MAP",
    "CLASSIFIER_FILES",
    "CLINC150_MAP",
    "CLINC150_UNUSED",
    "DEFAULT_MODEL_DIR",
    "DEFAULT_PARAMS",
    "DEFAULT_TAXONOMY",
    "FewShotClassifier",
    "HEADS",
    "OUT_OF_SCOPE_PROBES",
    "REQUEST_TYPES",
    "TAXONOMY_MODES",
    "Taxonomy",
    "TaxonomyCheck",
    "TaxonomyClassifier",
    "TaxonomyLabel",
    "TextClassifier",
    "ZeroShotClassifier",
    "build_training_frame",
    "check_taxonomy",
    "evaluate_classifier",
    "find_taxonomy_file",
    "fit_temperature",
    "label_texts",
    "legacy_heads",
    "load_classifier",
    "load_default_model",
    "load_taxonomy",
    "planned_mode",
    "second_labels",
    "train_default_model",
    "write_evaluation",
    "write_taxonomy",
]
