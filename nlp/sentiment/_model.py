"""Sentiment of short social posts and customer messages: negative, neutral, positive.

One classifier, :class:`SentimentClassifier`, with one predict path: a calibrated linear head on an
encoder's vectors (the shipped ``tuned`` model: the distilled student ``minilm-l2`` fine-tuned on the
SemEval-2013..2016 Twitter pool, CC BY 3.0; ``frozen``: the head on the frozen all-MiniLM-L6-v2 vectors)
plus four lexicon numbers, and the support rules around it. Weights and model cards:
``nlp/artifacts/sentiment*/``; :func:`load_sentiment_model` loads them (or a folder saved by
``cxlens train sentiment`` / :meth:`SentimentClassifier.save`).

:meth:`SentimentClassifier.predict_proba` (and ``predict``, its argmax) reads the text alone:

* A support phrase with a clear polarity ("no problems at all", "can't complain", "not working",
  "thanks for nothing") decides the label: the head's probabilities are averaged with that polarity
  (``support_rules``; flag ``support_rule``).
* A post with no letters (emoji only) is scored by the lexicon, whose emoji valences are explicit
  (``lexicon_for_no_letters``; flag ``lexicon``).
* An empty post has uniform probabilities (no evidence); ``predict`` gives it ``neutral``.

:meth:`SentimentClassifier.annotate` adds the language: ``language`` is detected
(:mod:`cxlens.nlp.sentiment._language`). The model reads English; a post in another language is **not
guessed**: uniform probabilities, so ``sentiment`` is ``neutral``, ``sentiment_score`` 0,
``sentiment_confidence`` 1/3 (no better than chance) and ``sentiment_flag`` ``unsupported_language``.
An empty post is flagged ``no_text``. ``sentiment_score`` = p(positive) - p(negative), in [-1, 1] (the
VADER compound for a lexicon row); ``sentiment_confidence`` is the probability of the label given.

:func:`score_sentiment` is the convenience function: ``model.annotate(texts)`` for a model (the shipped
one by default), or the lexicon alone (``fast=True``:
:class:`cxlens.nlp.sentiment._lexicon.LexiconSentiment`, VADER with support-domain fixes, no encoder, the
reported floor) under the same language rule.

Long texts are truncated by the encoder at 128 word pieces (the lexicon reads the first 5,000 characters).
"""

from __future__ import annotations

import json
import logging
from collections.abc import Sequence
from pathlib import Path

import numpy as np
import pandas as pd

from sklearn.base import BaseEstimator, ClassifierMixin

from cxlens._resources import shipped_path
from cxlens.errors import ConfigError, DataError, NotFittedError
from cxlens.nlp import Texts
from cxlens.nlp.sentiment._posts import (LABELS, MAX_LEXICON_CHARS, Scores, annotated_frame, best_label_index,
                                         has_letters, lexicon_scores, normalise_labels, normalise_post,
                                         posts_batch)

__all__ = [
    "ARTIFACT_DIR",
    "FROZEN_ARTIFACT_DIR",
    "SHIPPED_MODELS",
    "is_shipped_model",
    "SENTIMENT_COLUMNS",
    "SentimentClassifier",
    "load_sentiment_model",
    "score_sentiment",
]

log = logging.getLogger(__name__)

SENTIMENT_COLUMNS = ("sentiment", "sentiment_score", "sentiment_confidence", "language", "sentiment_flag")
ARTIFACT_DIR = shipped_path("cxlens.nlp", "artifacts", "sentiment")
#: The head on the frozen all-MiniLM-L6-v2 vectors (the shipped model until 23 Nov 2026): what ``cxlens score``
#: uses by default, because it reads the vectors the run's encoder already made for the other heads.
FROZEN_ARTIFACT_DIR = shipped_path("cxlens.nlp", "artifacts", "sentiment_frozen")
#: Shipped models by name: ``tuned`` (the default of ``load_sentiment_model``) and ``frozen``.
SHIPPED_MODELS = {"tuned": ARTIFACT_DIR, "frozen": FROZEN_ARTIFACT_DIR}
DEFAULT_BATCH_SIZE = 512



FORMAT = "cxlens.sentiment_head.v1"


class SentimentClassifier(ClassifierMixin, BaseEstimator):
    """Sentiment of posts: logistic regression on [encoder vector, lexicon polarity] with temperature
    calibration, and the support rules in its one predict path.

    ``X`` is texts everywhere: a list, a pandas Series, a 1-D array, or a :class:`~cxlens.nlp.Texts` that
    may carry vectors already (a scoring run's). The classifier reads the vectors of the normalised posts
    (:func:`normalise_post`) by its encoder (:meth:`text_encoder`) through ``Texts.vectors``; a batch whose
    texts normalising leaves unchanged keeps its vectors, so nothing is encoded twice.

    Parameters
    ----------
    encoder : registered encoder name (``"minilm"``: ONNX int8 when available; ``"tfidf"`` for tests). On a
        fitted head on a frozen encoder it may be set to another encoder of the same vector space
        (``"minilm-l2"`` for a head fitted on ``"minilm"`` vectors).
    lexicon_features : append the four VADER-with-fixes numbers (neg, neu, pos, compound) of
        :class:`~cxlens.nlp.sentiment._lexicon.LexiconSentiment` to the embedding (+2 points of macro-recall
        on TweetEval val in our runs).
    C : inverse L2 regularisation.
    class_weight : ``"balanced"`` (default: the target metric, macro-recall, weighs every class alike) or None.
    cv : folds of the out-of-fold logits the temperature is fitted on (0: no calibration).
    max_iter : solver iterations.
    random_state : seed of the folds (and of the fine-tuning).
    finetune_epochs : 0 (default) keeps the encoder frozen; more first fine-tunes the encoder on the labels
        for that many passes (:func:`cxlens.nlp.encoders._finetune.finetune_encoder`; all-MiniLM-L6-v2 end to end at
        about 20-40 short posts/s per pass on 2 CPU cores, a GPU when there is one; with
        ``encoder="minilm-l2"`` the distilled student's two layers, faster, stored in 7 MB), then fits the
        head on the tuned vectors.
    learning_rate, device : of the fine-tuning (``device``: ``"auto"``, ``"cpu"`` or ``"cuda"``).
    encoder_dir : an encoder already tuned (a folder of :func:`cxlens.nlp.encoders._finetune.finetune_encoder`, or a
        tuned student artifact): the head is fitted on its vectors, with no tuning (``finetune_epochs`` 0). For
        an encoder tuned on another machine (a GPU) or by another recipe (distillation).
    support_rules : where a support phrase of :data:`cxlens.nlp.sentiment._lexicon.PHRASE_REWRITES` with a
        clear polarity is found ("no problems at all", "can't complain", "not working", "thanks for
        nothing"), the head's probabilities are averaged with the one-hot of that polarity, so the phrase
        decides the label and the head's disagreement lowers the confidence (flag ``support_rule``).
    lexicon_for_no_letters : score posts without letters (emoji only) with the lexicon (flag ``lexicon``;
        the probabilities of :func:`lexicon_scores`) instead of the head.

    Attributes
    ----------
    classes_ : negative, neutral, positive.
    coef_, intercept_ : the linear head.
    temperature_ : the calibration temperature.
    n_features_in_ : width of the head's input (encoder dimension, + 4 with ``lexicon_features``).
    encoder_dir_ : the tuned encoder's folder when the head was fitted on one (``finetune_epochs > 0`` or
        ``encoder_dir``), else ``None``. Such a head encodes with its own encoder (:meth:`text_encoder`).

    Examples
    --------
    >>> clf = SentimentClassifier(encoder="tfidf", cv=0).fit(texts, labels)   # doctest: +SKIP
    >>> clf.predict(["no problems at all"])                                   # doctest: +SKIP
    array(['positive'], dtype=object)
    """

    def __init__(self, *, encoder: str = "minilm", lexicon_features: bool = True, C: float = 2.0,
                 class_weight: str | None = "balanced", cv: int = 3, max_iter: int = 3000,
                 random_state: int = 0, finetune_epochs: int = 0, learning_rate: float = 5e-5,
                 device: str = "auto", encoder_dir: str | Path | None = None, support_rules: bool = True,
                 lexicon_for_no_letters: bool = True) -> None:
        self.encoder = encoder
        self.lexicon_features = lexicon_features
        self.C = C
        self.class_weight = class_weight
        self.cv = cv
        self.max_iter = max_iter
        self.random_state = random_state
        self.finetune_epochs = finetune_epochs
        self.learning_rate = learning_rate
        self.device = device
        self.encoder_dir = encoder_dir
        self.support_rules = support_rules
        self.lexicon_for_no_letters = lexicon_for_no_letters

    # -- the encoder -------------------------------------------------------------------------
    def text_encoder(self):
        """The encoder whose vectors this classifier reads: its own tuned one when ``encoder_dir_`` is set,
        else the shared ``get_encoder(self.encoder)``."""
        from cxlens.nlp.encoders import TUNABLE_ENCODERS, get_encoder, get_tuned_encoder

        tuned = getattr(self, "encoder_dir_", None)
        if tuned is not None:
            return get_tuned_encoder(tuned, device=self.device, backend=TUNABLE_ENCODERS.get(self.encoder, "auto"))
        return get_encoder(self.encoder)

    def _features(self, posts: Texts) -> np.ndarray:
        """The head's input for normalised ``posts``: encoder vectors (+ lexicon polarity)."""
        from cxlens.nlp.sentiment._lexicon import LexiconSentiment

        parts = [np.asarray(posts.vectors(self.text_encoder()), dtype=np.float64)]
        if self.lexicon_features:
            parts.append(LexiconSentiment().polarity([p[:MAX_LEXICON_CHARS] for p in posts]))
        return np.hstack(parts)

    # -- fitting -----------------------------------------------------------------------------
    def fit(self, X, y=None, *, progress=None) -> SentimentClassifier:
        """Fit on posts ``X`` and their labels ``y`` (any spelling :func:`normalise_labels` reads).

        ``progress(stage, done, total)`` is called while fine-tuning (``finetune_epochs > 0``).
        """
        from sklearn.linear_model import LogisticRegression
        from sklearn.model_selection import StratifiedKFold

        from cxlens.nlp.classify import fit_temperature

        posts = posts_batch(X, "SentimentClassifier.fit")
        if y is None:
            raise DataError("SentimentClassifier.fit needs the labels y (negative/neutral/positive per text).")
        labels = normalise_labels(y)
        missing = set(LABELS) - set(labels)
        if missing:
            raise DataError(f"Training labels lack {sorted(missing)}: a sentiment model needs examples of "
                            "negative, neutral and positive posts.")
        if len(labels) != len(posts):
            raise DataError(f"{len(posts)} texts but {len(labels)} labels.")
        target = np.array([LABELS.index(v) for v in labels])
        self.encoder_dir_ = None
        if self.encoder_dir is not None:
            from cxlens.nlp.encoders import TUNABLE_ENCODERS
            from cxlens.nlp.encoders import stored_tuned_encoder

            if self.finetune_epochs:
                raise ConfigError("encoder_dir is an encoder tuned already: leave finetune_epochs at 0.")
            if self.encoder not in TUNABLE_ENCODERS:
                raise ConfigError(f"encoder_dir holds a tuned {', '.join(TUNABLE_ENCODERS)}; encoder is "
                                  f"{self.encoder!r}.")
            self.encoder_dir_ = stored_tuned_encoder(self.encoder_dir, model=self.encoder_dir)
        elif self.finetune_epochs:
            from cxlens.nlp.encoders import TUNABLE_ENCODERS
            from cxlens.nlp.encoders import finetune_encoder, tuning_base

            if self.encoder not in TUNABLE_ENCODERS:
                raise ConfigError(f"finetune_epochs tunes all-MiniLM-L6-v2 or its student; encoder {self.encoder!r} "
                                  f"cannot be tuned (use one of {', '.join(TUNABLE_ENCODERS)}).")
            self.encoder_dir_ = finetune_encoder(posts.tolist(), target, base=tuning_base(self.encoder),
                                                 epochs=self.finetune_epochs, lr=self.learning_rate,
                                                 seed=self.random_state, device=self.device, progress=progress)
        features = self._features(posts)

        def model():
            return LogisticRegression(C=self.C, class_weight=self.class_weight, max_iter=self.max_iter)

        temperature = 1.0
        folds = min(self.cv, int(np.bincount(target, minlength=3).min()))
        if folds >= 2:
            logits = np.zeros((len(target), len(LABELS)))
            split = StratifiedKFold(folds, shuffle=True, random_state=self.random_state)
            for train, test in split.split(features, target):
                logits[test] = model().fit(features[train], target[train]).decision_function(features[test])
            temperature = fit_temperature(logits, target)
        head = model().fit(features, target)
        self.classes_ = np.asarray(LABELS, dtype=object)
        self.coef_ = head.coef_.astype(np.float32)
        self.intercept_ = head.intercept_.astype(np.float32)
        self.temperature_ = float(temperature)
        self.n_features_in_ = features.shape[1]
        return self

    def _check_fitted(self) -> None:
        if not hasattr(self, "coef_"):
            raise NotFittedError(self)

    # -- the one predict path ----------------------------------------------------------------
    def _head_proba(self, posts: Texts) -> np.ndarray:
        """The calibrated head alone on normalised ``posts``."""
        X = self._features(posts)
        if X.shape[1] != self.coef_.shape[1]:
            raise DataError(f"The head expects {self.coef_.shape[1]} features, got {X.shape[1]}: "
                            f"was it trained with another encoder than {self.encoder!r}?")
        z = (X @ self.coef_.T.astype(np.float64) + self.intercept_) / self.temperature_
        z -= z.max(axis=1, keepdims=True)
        p = np.exp(z)
        return p / p.sum(axis=1, keepdims=True)

    def _scores(self, posts: Texts, rows: np.ndarray, *, batch_size: int = DEFAULT_BATCH_SIZE) -> Scores:
        """Probabilities, score and flag of normalised ``posts[rows]`` (other rows: uniform, 0, no flag)."""
        from cxlens.nlp.sentiment._lexicon import support_cues

        letters = np.array([has_letters(p) for p in posts], dtype=bool)
        lexicon_rows = rows & ~letters if self.lexicon_for_no_letters else np.zeros(len(posts), dtype=bool)
        proba, score, flag = lexicon_scores(posts, lexicon_rows, flag="lexicon")
        idx = np.flatnonzero(rows & ~lexicon_rows)
        for start in range(0, len(idx), batch_size):
            part = idx[start:start + batch_size]
            batch = posts[part]
            p = self._head_proba(batch)
            if self.support_rules:
                cue = support_cues(batch)
                if cue.any():  # a support phrase decides the label; the head only tempers the confidence
                    hit = np.flatnonzero(cue)
                    onehot = np.zeros((len(hit), len(LABELS)))
                    onehot[np.arange(len(hit)), np.where(cue[hit] > 0, 2, 0)] = 1.0
                    p[hit] = 0.5 * p[hit] + 0.5 * onehot
                    flag[part[hit]] = "support_rule"
            proba[part] = p
            score[part] = p[:, 2] - p[:, 0]
        return proba, score, flag

    def predict_proba(self, X) -> np.ndarray:
        """``(n, 3)`` calibrated probabilities in the order of :data:`LABELS`, the rules applied.

        The head's probabilities, averaged with a support phrase's polarity where one is found
        (``support_rules``); the lexicon's (:func:`lexicon_scores`) for a post without letters
        (``lexicon_for_no_letters``); uniform for an empty post. These are what :meth:`annotate` labels,
        except that ``annotate`` also declines a post not in English (uniform probabilities): the language
        is not read here.
        """
        self._check_fitted()
        posts = posts_batch(X, "SentimentClassifier.predict_proba")
        if not len(posts):
            return np.zeros((0, len(LABELS)))
        empty = np.array([not p.strip() for p in posts], dtype=bool)
        return self._scores(posts, ~empty)[0]

    def predict(self, X) -> np.ndarray:
        """The label of highest probability in :meth:`predict_proba`; a tie (an empty post's uniform
        probabilities) goes to ``neutral``."""
        proba = self.predict_proba(X)
        return np.asarray(self.classes_, dtype=object)[best_label_index(proba)]

    def annotate(self, X, *, languages: Sequence[str] | None = None,
                 batch_size: int = DEFAULT_BATCH_SIZE) -> pd.DataFrame:
        """One row per text (positionally aligned with ``X``, a fresh RangeIndex) with the columns of
        :data:`SENTIMENT_COLUMNS`.

        ``X`` is the raw texts (``None`` / NaN count as empty); they are normalised here. ``languages``:
        known language codes per text (skips detection). ``batch_size``: texts per head call. The labels
        are those of :meth:`predict` except for posts not in a supported language (English), which are
        declined: ``neutral``, score 0, confidence 1/3, flag ``unsupported_language``.
        """
        self._check_fitted()

        def scores(posts: Texts, rows: np.ndarray) -> Scores:
            return self._scores(posts, rows, batch_size=batch_size)

        return annotated_frame(X, scores=scores, languages=languages, who="SentimentClassifier.annotate")

    # -- saving ------------------------------------------------------------------------------
    def save(self, path: str | Path) -> Path:
        """``head.npz`` (weights, no pickle) + ``params.json`` in the folder ``path`` (and the tuned encoder in
        ``encoder/``); :func:`load_sentiment_model` reads it back."""
        self._check_fitted()
        path = Path(path)
        path.mkdir(parents=True, exist_ok=True)
        np.savez_compressed(path / "head.npz", coef=self.coef_, intercept=self.intercept_)
        tuned = getattr(self, "encoder_dir_", None)
        if tuned is not None:
            from cxlens.nlp.encoders import store_tuned_encoder

            self.encoder_dir_ = store_tuned_encoder(tuned, path / "encoder")
        # the tuned encoder travels inside the folder (encoder/), not as the path it was fitted from
        meta = {"format": FORMAT, "params": {**self.get_params(), "encoder_dir": None}, "classes": list(LABELS),
                "temperature": self.temperature_, "n_features": int(self.n_features_in_),
                "encoder_dir": "encoder" if tuned is not None else None}
        (path / "params.json").write_text(json.dumps(meta, indent=2) + "\n")
        return path


def _read_classifier(path: Path) -> SentimentClassifier:
    """A classifier written by :meth:`SentimentClassifier.save` (params it lacks take their defaults)."""
    meta_file, weights = path / "params.json", path / "head.npz"
    if not meta_file.is_file() or not weights.is_file():
        raise DataError(f"{path} is not a saved cxlens sentiment model (expected params.json and head.npz).")
    meta = json.loads(meta_file.read_text())
    if meta.get("format") != FORMAT:
        raise DataError(f"{meta_file}: unknown model format {meta.get('format')!r} (expected {FORMAT}).")
    model = SentimentClassifier(**meta["params"])
    with np.load(weights) as arrays:
        model.coef_ = arrays["coef"].astype(np.float32)
        model.intercept_ = arrays["intercept"].astype(np.float32)
    model.classes_ = np.asarray(meta["classes"], dtype=object)
    model.temperature_ = float(meta["temperature"])
    model.n_features_in_ = int(meta["n_features"])
    model.encoder_dir_ = None
    if meta.get("encoder_dir"):
        from cxlens.nlp.encoders import stored_tuned_encoder

        model.encoder_dir_ = stored_tuned_encoder(path / meta["encoder_dir"], model=path)
    return model


def is_shipped_model(name: str | Path) -> bool:
    """Whether ``name`` means a shipped model (:data:`SHIPPED_MODELS`) to :func:`load_sentiment_model`: a shipped
    name wins over a folder of the same name in the working directory (``./tuned`` is the folder)."""
    return str(name) in SHIPPED_MODELS


def load_sentiment_model(name_or_path: str | Path | None = None, *,
                         encoder: str | None = None) -> SentimentClassifier:
    """A shipped model by name (:data:`SHIPPED_MODELS`), or a folder saved by :meth:`SentimentClassifier.save`
    (``cxlens train sentiment``).

    A shipped name wins over a folder of the same name in the working directory (``./tuned`` is the folder).
    ``None`` or ``"tuned"``: the distilled student (``minilm-l2``) fine-tuned on SemEval tweets, with its
    own encoder (``nlp/artifacts/sentiment``, model card there). ``"frozen"``: the head on the frozen
    all-MiniLM-L6-v2 vectors (``nlp/artifacts/sentiment_frozen``), which can read vectors another part
    of a run already made. ``encoder`` runs a head fitted on a frozen encoder on another registered
    encoder of the same vector space (e.g. ``"minilm-l2"`` for a head fitted on ``"minilm"`` vectors); a
    fine-tuned head, the default one included, refuses another encoder (:class:`~cxlens.errors.ConfigError`).
    """
    shipped = name_or_path is None or is_shipped_model(name_or_path)
    if shipped and name_or_path is not None and Path(name_or_path).exists():
        name = str(name_or_path)
        log.warning("%r names the shipped sentiment model; the folder %r here is not read (pass ./%s for it)",
                    name, name, name)
    folder = SHIPPED_MODELS[str(name_or_path or "tuned")] if shipped else Path(name_or_path)
    model = _read_classifier(folder)
    if encoder is not None and encoder != model.encoder:
        if model.encoder_dir_ is not None:
            what = "The shipped tuned model" if shipped else str(folder)
            hint = " (its encoder is already the fast two-layer student)" if shipped else ""
            raise ConfigError(f"{what} encodes with its own fine-tuned encoder{hint}; it cannot run on "
                              f"{encoder!r}. Leave the encoder option out, or pass a model trained on a frozen "
                              "encoder.")
        from cxlens.nlp.encoders import check_encoder_name

        model.encoder = check_encoder_name(encoder)
    return model


def score_sentiment(texts, *, model: SentimentClassifier | None = None, fast: bool = False,
                    languages: Sequence[str] | None = None, batch_size: int = DEFAULT_BATCH_SIZE) -> pd.DataFrame:
    """Score posts; one row per text with the columns of :data:`SENTIMENT_COLUMNS`.

    Parameters
    ----------
    texts : the posts (a list, a Series or a :class:`~cxlens.nlp.Texts`; ``None`` / NaN count as empty).
    model : a :class:`SentimentClassifier`; default the shipped one (``load_sentiment_model()``). The result is
        exactly ``model.annotate(texts, languages=languages, batch_size=batch_size)``.
    fast : the lexicon (:class:`~cxlens.nlp.sentiment._lexicon.LexiconSentiment`) instead of a model
        (``model`` is then not used), under the same language rule; no ``lexicon`` flag.
    languages : known language codes per text (skips detection).
    batch_size : texts per head call.
    """
    if fast:
        return annotated_frame(texts, scores=lexicon_scores, languages=languages, who="score_sentiment")
    if isinstance(texts, str):
        raise DataError("score_sentiment takes a sequence of texts, not a single string: wrap it in a list.")
    model = model if model is not None else load_sentiment_model()
    return model.annotate(texts, languages=languages, batch_size=batch_size)
