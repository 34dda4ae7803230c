"""Text classifiers as scikit-learn estimators (request types, topics, any label set).

:class:`TextClassifier` = a shared text encoder (by name, see :mod:`cxlens.nlp.encoders._encoders`) plus a
small head:

* ``head="logreg"`` (default): logistic regression on the frozen sentence embeddings;
* ``head="tfidf"``: logistic regression on TF-IDF word 1-2-grams + character 3-5-grams of the raw text
  (no encoder, the fastest path);
* ``head="ensemble"``: both of the above, their calibrated log-probabilities averaged;
* ``head="finetune"``: the MiniLM encoder itself is first fine-tuned end to end on the training labels
  (:mod:`cxlens.nlp.encoders._finetune`; ``epochs``, ``learning_rate``, ``device``), then the logistic head is fitted
  on the tuned embeddings. Slow on CPU (about 40 short texts/s per epoch on 2 cores), uses the GPU when
  there is one. The tuned encoder is saved with the model (``encoder/``, about 90 MB).
  Its temperature is fitted on out-of-fold logits of the *training* texts, which the tuned encoder has
  already seen, so its confidence runs high; set ``threshold`` with that in mind.

Confidence is calibrated by temperature scaling fitted on out-of-fold logits (``calibration="temperature"``):
one scalar, so the ranking of labels never changes, only how sure the model says it is. A single-label
prediction whose confidence is below ``threshold`` becomes ``other_label`` ("other"); for
``multi_label=True`` the head is one-vs-rest, each label is kept when its probability reaches its own
threshold (``threshold="auto"`` tunes one per label on the out-of-fold probabilities), and a text with
no label left is ``other``.

Out-of-scope texts: a softmax always picks *some* label, so with ``min_similarity`` set, a text whose
embedding is far from everything seen in training (cosine to the nearest of ``n_anchors`` k-means
centroids per label below ``min_similarity``) is ``other`` too, whatever its confidence.

``X`` is a sequence of texts, or a 2-D float array of embeddings from the same encoder (so several heads
can reuse one encoding). ``save(dir)`` / :func:`load_classifier` keep the heads as JSON + ``.npz`` (no pickle,
:mod:`cxlens.nlp.classify._classifier_files`) and the params as JSON; the encoder is stored by name and comes
from the installed packages.
"""

from __future__ import annotations

import logging
from pathlib import Path

import numpy as np
import pandas as pd
from sklearn.base import BaseEstimator, ClassifierMixin

from cxlens.errors import ConfigError, DataError, NotFittedError, UnknownNameError
from cxlens.nlp import Texts
from cxlens.nlp.classify._calibration import GroupFolds, fit_temperature, sigmoid  # noqa: F401 (re-exported)
from cxlens.nlp.classify._classifier_files import read_classifier, write_classifier
from cxlens.nlp.encoders import FINETUNE_DEFAULTS

__all__ = ["HEADS", "TextClassifier", "fit_temperature", "load_classifier", "second_labels"]

log = logging.getLogger(__name__)

HEADS = ("logreg", "tfidf", "ensemble", "finetune")
#: what the TF-IDF head reads: word 1-2-grams, plus character 3-5-grams (ten times slower per text)
TFIDF_FEATURES = ("word+char", "word")
_DEFAULT_C = {"logreg": 10.0, "tfidf": 10.0}


def _is_embeddings(X) -> bool:
    return isinstance(X, np.ndarray) and X.ndim == 2 and np.issubdtype(X.dtype, np.number)


def as_text_list(X) -> list[str]:
    if isinstance(X, Texts):
        return X.tolist()
    if hasattr(X, "columns"):  # a one-column DataFrame
        if X.shape[1] != 1:
            raise DataError(f"TextClassifier takes one text column, got a frame with columns {list(X.columns)}.")
        X = X.iloc[:, 0]
    if isinstance(X, str):
        raise DataError("TextClassifier takes a sequence of texts, not a single string: wrap it in a list.")
    arr = np.asarray(X, dtype=object).ravel()
    return ["" if v is None or (isinstance(v, float) and np.isnan(v)) else str(v) for v in arr]


def _softmax(z: np.ndarray) -> np.ndarray:
    z = z - z.max(axis=1, keepdims=True)
    e = np.exp(z)
    return e / e.sum(axis=1, keepdims=True)


class TextClassifier(ClassifierMixin, BaseEstimator):
    """Encoder + linear head with calibrated confidence and an ``other`` fallback.

    Parameters
    ----------
    encoder : registered encoder name (``"minilm"``, ``"minilm-onnx"``, ``"minilm-torch"``, ``"tfidf"``).
    head : ``"logreg"`` | ``"tfidf"`` | ``"ensemble"`` | ``"finetune"``.
    multi_label : one-vs-rest; ``y`` is a list of label collections (or ``"a|b"`` strings).
    threshold : below this confidence a single-label prediction is ``other_label``; for multi-label the
        per-label keep threshold: a float, a ``{label: float}`` mapping, or ``"auto"`` (tuned per label
        for F1 on out-of-fold probabilities). ``None``: 0.3 single-label, 0.5 multi-label.
    C : inverse regularisation of the logistic regression(s); ``None``: 10.
    calibration : ``"temperature"`` (fitted on ``cv``-fold out-of-fold logits) or ``"none"``.
    cv : folds for calibration and threshold tuning (reduced automatically for tiny classes).
    class_weight : passed to ``LogisticRegression``.
    other_label : the fallback label.
    min_similarity : single-label, embedding heads: below this cosine to the nearest training anchor the
        label is ``other_label`` (``None``: off).
    n_anchors : k-means centroids kept per label for ``min_similarity``.
    max_iter : solver iterations.
    random_state : seed of the folds (and of the fine-tuning).
    epochs, learning_rate : fine-tuning passes over the data and peak learning rate (``head="finetune"``).
    device : ``"auto"`` (CUDA when torch sees one), ``"cpu"`` or ``"cuda"``; fine-tuning only.
    tfidf_features : ``"word+char"`` (word 1-2-grams and character 3-5-grams) or ``"word"`` (word 1-2-grams only:
        about ten times faster per text) for the ``tfidf`` and ``ensemble`` heads.
    secondary_min : single-label: a second label is reported (``annotate``'s ``secondary`` column) when its
        probability is at least this (``None``: no second label). Never ``other_label``, never for a text whose
        label is ``other_label``.
    finetune_options : more keyword options of :func:`cxlens.nlp.encoders._finetune.finetune_encoder` (``loss``,
        ``batch_size``, ``max_length``).

    Attributes
    ----------
    classes_ : label names (sorted).
    temperature_ : fitted temperature (1.0 without calibration).
    thresholds_ : per-label thresholds (multi-label) or a length-1 array (single-label).
    anchors_ : ``(n, dim)`` unit vectors (training centroids) when ``min_similarity`` is set, else ``None``.
    encoder_dir_ : ``head="finetune"``: the folder of the tuned encoder (the saved copy after :meth:`save`).
    """

    def __init__(self, *, encoder: str = "minilm", head: str = "logreg", multi_label: bool = False,
                 threshold: float | str | dict | None = None, C: float | None = None,
                 calibration: str = "temperature", cv: int = 3, class_weight: str | None = None,
                 other_label: str = "other", min_similarity: float | None = None, n_anchors: int = 16,
                 max_iter: int = 2000, random_state: int = 0, epochs: int = FINETUNE_DEFAULTS["epochs"],
                 learning_rate: float = FINETUNE_DEFAULTS["lr"], device: str = "auto",
                 tfidf_features: str = "word+char", secondary_min: float | None = None,
                 finetune_options: dict | None = None) -> None:
        self.encoder = encoder
        self.head = head
        self.multi_label = multi_label
        self.threshold = threshold
        self.C = C
        self.calibration = calibration
        self.cv = cv
        self.class_weight = class_weight
        self.other_label = other_label
        self.min_similarity = min_similarity
        self.n_anchors = n_anchors
        self.max_iter = max_iter
        self.random_state = random_state
        self.epochs = epochs
        self.learning_rate = learning_rate
        self.device = device
        self.tfidf_features = tfidf_features
        self.secondary_min = secondary_min
        self.finetune_options = finetune_options

    # -- parts ---------------------------------------------------------------------------------
    def _check_params(self) -> None:
        if self.head not in HEADS:
            raise UnknownNameError(kind="classifier head", name=self.head, known=HEADS)
        if self.tfidf_features not in TFIDF_FEATURES:
            raise UnknownNameError(kind="TF-IDF features", name=str(self.tfidf_features), known=TFIDF_FEATURES)
        if self.calibration not in ("temperature", "none"):
            raise UnknownNameError(kind="calibration", name=str(self.calibration), known=("temperature", "none"))
        if isinstance(self.threshold, str) and (self.threshold != "auto" or not self.multi_label):
            raise ConfigError(f"threshold={self.threshold!r}: 'auto' is for multi_label=True; otherwise give a number.")

    def _encoder(self):
        from cxlens.nlp.encoders import get_encoder

        if getattr(self, "encoder_dir_", None) is not None:
            from cxlens.nlp.encoders import TUNABLE_ENCODERS, get_tuned_encoder

            return get_tuned_encoder(self.encoder_dir_, device=self.device,
                                     backend=TUNABLE_ENCODERS.get(self.encoder, "auto"))
        if isinstance(self.encoder, str):
            return get_encoder(self.encoder)
        if hasattr(self.encoder, "encode"):
            return self.encoder
        raise ConfigError(f"encoder must be a registered encoder name or have .encode(), got {self.encoder!r}.")

    def text_encoder(self):
        """The encoder whose vectors this classifier reads: its own fine-tuned one (``head="finetune"``) or the
        registered ``encoder``. A :class:`~cxlens.nlp.Texts` batch computes them once for every component."""
        return self._encoder()

    def encode(self, X) -> np.ndarray:
        """Embeddings for ``X``: a :class:`~cxlens.nlp.Texts` gives the vectors it carries (computed once per
        batch), a list of texts is encoded, and a 2-D float array (vectors of this encoder) is returned as is."""
        if _is_embeddings(X):
            return np.asarray(X, dtype=np.float32)
        return Texts.of(X if isinstance(X, Texts) else as_text_list(X)).vectors(self._encoder())

    def _make_heads(self) -> dict:
        from sklearn.feature_extraction.text import TfidfVectorizer
        from sklearn.linear_model import LogisticRegression
        from sklearn.multiclass import OneVsRestClassifier
        from sklearn.pipeline import FeatureUnion, make_pipeline

        def lr(kind: str):
            c = self.C if self.C is not None else _DEFAULT_C[kind]
            est = LogisticRegression(C=c, max_iter=self.max_iter, class_weight=self.class_weight)
            return OneVsRestClassifier(est) if self.multi_label else est

        heads = {}
        if self.head in ("logreg", "ensemble", "finetune"):
            heads["emb"] = lr("logreg")
        if self.head in ("tfidf", "ensemble"):
            # word-only keeps the 1-2-grams seen in two texts at least: a quarter of the vocabulary, same accuracy
            min_df = 2 if self.tfidf_features == "word" else 1
            parts = [("word", TfidfVectorizer(ngram_range=(1, 2), sublinear_tf=True, lowercase=True, min_df=min_df))]
            if self.tfidf_features == "word+char":
                parts.append(("char", TfidfVectorizer(analyzer="char_wb", ngram_range=(3, 5), sublinear_tf=True,
                                                      min_df=2)))
            vec = FeatureUnion(parts)
            heads["tfidf"] = make_pipeline(vec, lr("tfidf"))
        return heads

    def _inputs(self, X, kinds) -> dict:
        pre = _is_embeddings(X)
        out = {}
        if "tfidf" in kinds:
            if pre:
                raise DataError(f"head={self.head!r} needs the raw texts; it got an embedding array.")
            out["tfidf"] = as_text_list(X)
        if "emb" in kinds:
            if pre and getattr(self, "encoder_dir_", None) is not None:
                raise DataError("This classifier has its own fine-tuned encoder (head='finetune'): pass the texts; "
                                "vectors from another encoder would not fit its head.")
            out["emb"] = self.encode(X)
        return out

    @staticmethod
    def _logits(est, x) -> np.ndarray:
        z = np.asarray(est.decision_function(x), dtype=np.float64)
        if z.ndim == 1:  # binary single-label: softmax([0, z]) == sigmoid(z)
            z = np.column_stack([np.zeros_like(z), z])
        return z

    def _encode_targets(self, y):
        if self.multi_label:
            from sklearn.preprocessing import MultiLabelBinarizer

            sets = [tuple(v.split("|")) if isinstance(v, str) else tuple(v) for v in y]
            sets = [tuple(s.strip() for s in t if str(s).strip()) for t in sets]
            mlb = MultiLabelBinarizer()
            Y = mlb.fit_transform(sets)
            return np.asarray(mlb.classes_, dtype=object), Y
        y = np.asarray([str(v) for v in np.asarray(y, dtype=object).ravel()], dtype=object)
        classes, idx = np.unique(y, return_inverse=True)
        return classes.astype(object), idx

    # -- fitting -------------------------------------------------------------------------------
    def fit(self, X, y, *, sample_weight=None, calibrate_on=None, calibration_groups=None,
            progress=None) -> TextClassifier:
        """Fit the head(s) and the calibration on texts (or embeddings) ``X`` and labels ``y``.

        ``sample_weight``: single-label, a weight per row for the heads (e.g. more for messages like the ones the
        model will see). ``calibrate_on``: a boolean mask of the rows whose out-of-fold logits fit the
        temperatures (default all; e.g. only real messages, so that confidence means the same on real text).
        ``calibration_groups``: single-label, frozen encoder; a group per row (e.g. the source a message comes
        from): the out-of-fold logits then come from holding out whole groups (one at a time up to ``cv`` groups,
        else ``cv`` folds of groups), so the temperatures learn how sure the model should be on a kind of text it
        was not trained on (the case of a new domain). Falls back to stratified folds, with a warning, when
        holding a fold out would leave a label with no training row; a missing group is a group of its own.
        ``progress(stage, done, total)``: called while fine-tuning (``head="finetune"``).
        """
        self._check_params()
        classes, Y = self._encode_targets(y)
        n = len(Y)
        if n != (len(X) if not hasattr(X, "shape") else X.shape[0]):
            raise DataError(f"X has {len(X)} rows but y has {n}.")
        weights = self._row_values(sample_weight, n, "sample_weight", float)
        calib = self._row_values(calibrate_on, n, "calibrate_on", bool)
        groups = self._row_values(calibration_groups, n, "calibration_groups", object)
        if weights is not None and self.multi_label:
            raise ConfigError("sample_weight is for single-label models.")
        if groups is not None and self.multi_label:
            raise ConfigError("calibration_groups is for single-label models.")
        if groups is not None and self.head == "finetune":
            raise ConfigError("calibration_groups needs a frozen encoder: with head='finetune' the encoder is tuned "
                              "on every source, so no source would be unseen. Use head='logreg' or 'ensemble'.")
        if len(classes) < 2 and not self.multi_label:
            raise DataError(f"TextClassifier needs at least two labels in y, got {list(classes)}.")
        self.encoder_dir_ = None
        if self.head == "finetune":
            self.encoder_dir_ = self._finetune(X, Y, progress)
        heads = self._make_heads()
        inputs = self._inputs(X, heads)
        folds = self._folds(Y, groups, calib)
        # what the confidences were calibrated on: whole sources held out, label-stratified folds, or nothing
        self.calibration_folds_ = ("groups" if isinstance(folds, GroupFolds) else
                                   "none" if folds is None else "stratified")
        oof = {}
        for kind, est in heads.items():
            if folds is not None and (self.calibration == "temperature" or self.threshold == "auto"
                                      or len(heads) > 1):
                oof[kind] = self._oof_logits(est, inputs[kind], Y, folds, weights)
            est.fit(inputs[kind], Y, **self._weight_kwargs(est, weights))
        self.classes_ = classes
        self.heads_ = heads
        self.temperatures_ = {kind: 1.0 for kind in heads}
        if self.calibration == "temperature" and oof:
            rows = np.ones(n, dtype=bool) if calib is None else calib
            for kind, z in oof.items():
                self.temperatures_[kind] = fit_temperature(z[rows], Y[rows], multi_label=self.multi_label)
            if len(oof) > 1 and not self.multi_label:
                # averaging two calibrated heads' log-probabilities sharpens them again: one more temperature on
                # the combination, fitted on the same rows
                mixed = self._combine(oof, output=False)
                self.temperatures_["output"] = fit_temperature(np.log(np.clip(mixed[rows], 1e-12, 1.0)), Y[rows])
        self.temperature_ = float(np.mean([t for k, t in self.temperatures_.items() if k != "output"]))
        self.thresholds_ = self._fit_thresholds(Y, oof)
        self.anchors_ = self._fit_anchors(inputs.get("emb"), Y)
        self.n_features_in_ = 1
        return self

    def _finetune(self, X, Y, progress) -> Path:
        from cxlens.nlp.encoders import finetune_encoder, tuning_base

        if _is_embeddings(X):
            raise DataError("head='finetune' tunes the encoder, so it needs the raw texts, not an embedding array.")
        from cxlens.nlp.encoders import TUNABLE_ENCODERS

        if not isinstance(self.encoder, str) or self.encoder not in TUNABLE_ENCODERS:
            raise ConfigError(f"head='finetune' tunes all-MiniLM-L6-v2 or its student; encoder={self.encoder!r} "
                              f"cannot be tuned (use one of {', '.join(TUNABLE_ENCODERS)}).")
        extra = dict(self.finetune_options or {})
        unknown = set(extra) - {"loss", "batch_size", "max_length"}
        if unknown:
            raise ConfigError(f"finetune_options: unknown {sorted(unknown)}; known: loss, batch_size, max_length.")
        return finetune_encoder(as_text_list(X), Y, multi_label=self.multi_label, base=tuning_base(self.encoder),
                                epochs=self.epochs,
                                lr=self.learning_rate, seed=self.random_state, device=self.device, progress=progress,
                                **extra)

    def _folds(self, Y, groups=None, calib=None):
        from sklearn.model_selection import KFold, StratifiedKFold

        if groups is not None:
            folds = GroupFolds.of(groups, Y, cv=self.cv, calibrate_on=calib)
            if folds is not None:
                return folds
        if self.multi_label:
            k = min(self.cv, len(Y))
            return KFold(k, shuffle=True, random_state=self.random_state) if k >= 2 else None
        counts = np.bincount(Y)
        k = min(self.cv, int(counts.min()))
        if k < 2:
            log.info("a label has fewer than 2 examples: no calibration folds (temperature 1)")
            return None
        return StratifiedKFold(k, shuffle=True, random_state=self.random_state)

    @staticmethod
    def _row_values(values, n: int, name: str, kind) -> np.ndarray | None:
        if values is None:
            return None
        arr = np.asarray(values, dtype=kind)
        if arr.shape != (n,):
            raise DataError(f"{name} has {arr.size} values for {n} rows.")
        if kind is bool and not arr.any():
            raise DataError(f"{name} selects no row.")
        return arr

    @staticmethod
    def _weight_kwargs(est, weights) -> dict:
        if weights is None:
            return {}
        steps = getattr(est, "steps", None)
        return {f"{steps[-1][0]}__sample_weight": weights} if steps else {"sample_weight": weights}

    def _oof_logits(self, est, x, Y, folds, weights=None) -> np.ndarray:
        from sklearn.base import clone

        width = Y.shape[1] if self.multi_label else max(2, int(Y.max()) + 1)
        z = np.zeros((len(Y), width))
        split_y = Y if not self.multi_label else np.zeros(len(Y))
        for tr, te in folds.split(np.zeros(len(Y)), split_y):
            x_tr = x[tr] if isinstance(x, np.ndarray) else [x[i] for i in tr]
            x_te = x[te] if isinstance(x, np.ndarray) else [x[i] for i in te]
            # stratified folds with k <= the smallest class keep every class in every training part
            part = None if weights is None else weights[tr]
            z[te] = self._logits(clone(est).fit(x_tr, Y[tr], **self._weight_kwargs(est, part)), x_te)
        return z

    def _fit_anchors(self, emb, Y) -> np.ndarray | None:
        if self.min_similarity is None or emb is None or self.multi_label:
            return None
        from sklearn.cluster import KMeans

        parts = []
        for j in range(len(self.classes_)):
            x = emb[Y == j]
            k = min(self.n_anchors, len(x))
            if k == len(x):
                parts.append(x)
                continue
            parts.append(KMeans(n_clusters=k, n_init=1, random_state=self.random_state).fit(x).cluster_centers_)
        anchors = np.concatenate(parts).astype(np.float32)
        return anchors / np.maximum(np.linalg.norm(anchors, axis=1, keepdims=True), 1e-12)

    def _fit_thresholds(self, Y, oof) -> np.ndarray:
        k = len(self.classes_)
        if not self.multi_label:
            return np.array([0.3 if self.threshold is None else float(self.threshold)])
        if isinstance(self.threshold, dict):
            unknown = set(self.threshold) - set(self.classes_)
            if unknown:
                raise ConfigError(f"threshold names unknown labels {sorted(unknown)}; labels: {list(self.classes_)}.")
            return np.array([float(self.threshold.get(c, 0.5)) for c in self.classes_])
        if self.threshold != "auto":
            return np.full(k, 0.5 if self.threshold is None else float(self.threshold))
        if not oof:
            return np.full(k, 0.5)
        proba = self._combine({kind: z for kind, z in oof.items()})
        grid = np.linspace(0.1, 0.9, 17)
        best = np.full(k, 0.5)
        for j in range(k):
            f1 = []
            for t in grid:
                pred = proba[:, j] >= t
                tp = np.sum(pred & (Y[:, j] == 1))
                f1.append(2 * tp / max(1, pred.sum() + Y[:, j].sum()))
            best[j] = grid[int(np.argmax(f1))]
        return best

    # -- prediction ----------------------------------------------------------------------------
    def _check_fitted(self) -> None:
        if not hasattr(self, "heads_"):
            raise NotFittedError(self)

    def _combine(self, logits: dict, *, output: bool = True) -> np.ndarray:
        temps = getattr(self, "temperatures_", None) or {}
        if self.multi_label:
            probs = [sigmoid(z / temps.get(kind, 1.0)) for kind, z in logits.items()]
            return np.mean(probs, axis=0)
        logp = [np.log(np.clip(_softmax(z / temps.get(kind, 1.0)), 1e-12, 1.0)) for kind, z in logits.items()]
        return _softmax(np.mean(logp, axis=0) / (temps.get("output", 1.0) if output else 1.0))

    def _proba_similarity(self, X) -> tuple[np.ndarray, np.ndarray | None]:
        self._check_fitted()
        if not len(X):  # an empty batch: no rows, the same columns
            return np.zeros((0, len(self.classes_))), None
        inputs = self._inputs(X, self.heads_)
        proba = self._combine({kind: self._logits(est, inputs[kind]) for kind, est in self.heads_.items()})
        anchors = getattr(self, "anchors_", None)
        sim = None if anchors is None or "emb" not in inputs else (inputs["emb"] @ anchors.T).max(axis=1)
        return proba, sim

    def predict_proba(self, X) -> np.ndarray:
        """Calibrated probabilities, ``(n, len(classes_))`` (independent per label when multi-label)."""
        return self._proba_similarity(X)[0]

    def similarity(self, X) -> np.ndarray:
        """Cosine of each text to the nearest training anchor (needs ``min_similarity`` at fit time)."""
        sim = self._proba_similarity(X)[1]
        if sim is None:
            raise ConfigError("similarity() needs a model fitted with min_similarity and an embedding head.")
        return sim

    def predict_confidence(self, X) -> tuple[np.ndarray, np.ndarray]:
        """``(labels, confidence)`` for single-label models; low-confidence labels are ``other_label``."""
        if self.multi_label:
            raise ConfigError("predict_confidence is for single-label models; use predict_label_sets.")
        proba, sim = self._proba_similarity(X)
        return self._decide(proba, sim)

    def _decide(self, proba: np.ndarray, sim: np.ndarray | None) -> tuple[np.ndarray, np.ndarray]:
        best = proba.argmax(axis=1)
        conf = proba[np.arange(len(best)), best]
        labels = self.classes_[best].astype(object)
        low = conf < self.thresholds_[0]
        if sim is not None and self.min_similarity is not None:
            low |= sim < self.min_similarity
        labels[low] = self.other_label
        return labels, conf

    def predict(self, X) -> np.ndarray:
        """Labels (single-label, with ``other_label`` below threshold) or a 0/1 indicator matrix (multi-label)."""
        if self.multi_label:
            return (self.predict_proba(X) >= self.thresholds_).astype(int)
        return self.predict_confidence(X)[0]

    def annotate(self, X) -> pd.DataFrame:
        """What a :class:`~cxlens.nlp.TextPipeline` attaches: ``label`` and ``confidence`` per text, plus
        ``secondary`` and ``secondary_confidence`` when ``secondary_min`` is set."""
        proba, sim = self._proba_similarity(X)
        labels, confidence = self._decide(proba, sim)
        out = pd.DataFrame({"label": labels, "confidence": confidence})
        if self.secondary_min is not None and not self.multi_label:
            second, second_conf = second_labels(proba, self.classes_, labels, other_label=self.other_label,
                                                min_probability=self.secondary_min)
            # object dtype: a missing second label is None in every batch (not NaN in some, None in others)
            out["secondary"] = pd.Series(second, index=out.index, dtype=object)
            out["secondary_confidence"] = second_conf
        return out

    def predict_label_sets(self, X) -> list[tuple[str, ...]]:
        """Multi-label: the labels kept per text (``(other_label,)`` when none reaches its threshold)."""
        Z = self.predict(X) if self.multi_label else None
        if Z is None:
            return [(lab,) for lab in self.predict(X)]
        return [tuple(self.classes_[row.astype(bool)]) or (self.other_label,) for row in Z]

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.input_tags.string = True
        tags.input_tags.two_d_array = True
        return tags

    # -- persistence ---------------------------------------------------------------------------
    def save(self, path: str | Path) -> Path:
        """Write ``params.json``, ``head.json`` and ``head.npz`` (no pickle) into the folder ``path`` (created)."""
        return write_classifier(self, path)

    @classmethod
    def load(cls, path: str | Path, *, trust_model: bool = False) -> TextClassifier:
        return load_classifier(path, trust_model=trust_model)


def second_labels(proba: np.ndarray, classes: np.ndarray, primary: np.ndarray, *, other_label: str,
                  min_probability: float) -> tuple[np.ndarray, np.ndarray]:
    """The most probable label after ``primary`` when its probability reaches ``min_probability`` (else
    ``None`` and NaN); never ``other_label``, and none for texts whose primary label is ``other_label``."""
    p = np.array(proba, dtype=np.float64, copy=True)
    classes = np.asarray(classes, dtype=object)
    p[:, classes == other_label] = -1.0
    p[primary[:, None] == classes[None, :]] = -1.0
    best = p.argmax(axis=1) if p.size else np.zeros(len(p), dtype=int)
    conf = p[np.arange(len(p)), best] if p.size else np.zeros(0)
    keep = (conf >= min_probability) & (primary != other_label)
    labels = np.where(keep, classes[best] if len(classes) else None, None).astype(object)
    return labels, np.where(keep, conf, np.nan)


def load_classifier(path: str | Path, *, trust_model: bool = False) -> TextClassifier:
    """Load a classifier written by :meth:`TextClassifier.save`.

    A folder saved by an older cxlens keeps its heads in ``head.joblib``, a pickle that can run code when
    loaded: it is loaded only with ``trust_model=True`` (else :class:`~cxlens.errors.UntrustedModelError`,
    before the file is read); save the model again to write it without pickle.
    """
    return read_classifier(path, TextClassifier, trust_model=trust_model)
