"""Sentiment of short social posts and customer messages: negative, neutral, positive.

Two scorers share one output (:data:`SENTIMENT_COLUMNS`):

* :class:`SentimentModel` -- the shipped model: a calibrated linear head
  (:class:`SentimentHead`) on the shared MiniLM encoder (``get_encoder("minilm")``)
  plus four lexicon numbers, trained on the SemEval-2013..2016 Twitter pool
  (CC BY 3.0) by ``benchmarks/train_sentiment.py``. Weights and model card:
  ``nlp/artifacts/sentiment/``. ``cxlens train sentiment`` trains the same kind
  of head on a team's own labelled posts.
* :class:`cxlens.nlp.sentiment._lexicon.LexiconSentiment` -- VADER with support-domain
  fixes (``fast=True``): no encoder, the reported floor.

Around either scorer, :func:`score_sentiment` applies the same rules:

* ``language`` is detected (:mod:`cxlens.nlp.sentiment._language`). The model reads
  English; a post in another language is **not guessed**: ``sentiment`` is
  ``neutral``, ``sentiment_score`` 0, ``sentiment_confidence`` 1/3 (no better
  than chance) and ``sentiment_flag`` ``unsupported_language``.
* A support phrase with a clear polarity ("no problems at all", "not working",
  "thanks for nothing") decides the label of the model path (flag ``support_rule``;
  see :class:`SentimentModel`).
* An empty post is neutral with ``sentiment_flag`` ``no_text``. A post with no
  letters (emoji only) is scored by the lexicon, whose emoji valences are
  explicit, and flagged ``lexicon``.
* ``sentiment_score`` = p(positive) - p(negative), in [-1, 1] (the VADER
  compound for the lexicon); ``sentiment_confidence`` is the calibrated
  probability of the label given.

Long texts are truncated by the encoder at 128 word pieces (the lexicon reads
the first 5,000 characters).
"""

from __future__ import annotations

import html
import json
import logging
import re
from collections.abc import Sequence
from pathlib import Path

import numpy as np
import pandas as pd

from sklearn.base import BaseEstimator, ClassifierMixin

from cxlens._resources import shipped_path
from cxlens.errors import ConfigError, DataError, NotFittedError

__all__ = [
    "ARTIFACT_DIR",
    "FROZEN_ARTIFACT_DIR",
    "SHIPPED_MODELS",
    "is_shipped_model",
    "LABELS",
    "SENTIMENT_COLUMNS",
    "SentimentHead",
    "SentimentModel",
    "load_sentiment_head",
    "load_sentiment_model",
    "normalise_labels",
    "normalise_post",
    "score_sentiment",
    "train_sentiment",
]

log = logging.getLogger(__name__)

LABELS = ("negative", "neutral", "positive")
SENTIMENT_COLUMNS = ("sentiment", "sentiment_score", "sentiment_confidence", "language", "sentiment_flag")
ARTIFACT_DIR = shipped_path("cxlens.nlp", "artifacts", "sentiment")
#: The head on the frozen all-MiniLM-L6-v2 vectors (the shipped model until 23 Nov 2026): what ``cxlens score``
#: uses by default, because it reads the vectors the run's encoder already made for the other heads.
FROZEN_ARTIFACT_DIR = shipped_path("cxlens.nlp", "artifacts", "sentiment_frozen")
#: Shipped models by name: ``tuned`` (the default of ``load_sentiment_model``) and ``frozen``.
SHIPPED_MODELS = {"tuned": ARTIFACT_DIR, "frozen": FROZEN_ARTIFACT_DIR}
SUPPORTED_LANGUAGES = frozenset({"en"})
MAX_LEXICON_CHARS = 5000

_USER = re.compile(r"@\w+")
_URL = re.compile(r"https?://\S+|www\.\S+")
_LETTER = re.compile(r"[^\W\d_]")
_LABEL_WORDS = {
    "negative": "negative", "neg": "negative", "-1": "negative", "-1.0": "negative",
    "neutral": "neutral", "neu": "neutral", "0": "neutral", "0.0": "neutral", "none": "neutral",
    "positive": "positive", "pos": "positive", "1": "positive", "1.0": "positive",
}


def normalise_post(text: object) -> str:
    """The text the model reads: HTML entities decoded, @handles -> ``@user``, links -> ``http``.

    The same normalisation TweetEval applies, so training and use see the same form.
    """
    if text is None or (isinstance(text, float) and np.isnan(text)):
        return ""
    text = html.unescape(str(text))
    text = _URL.sub("http", _USER.sub("@user", text))
    return " ".join(text.split())


def normalise_labels(values: Sequence[object]) -> np.ndarray:
    """Map label spellings to negative / neutral / positive (``neg``, ``-1``/``0``/``1``, any case).

    Raises :class:`DataError` listing the values it cannot read.
    """
    out = np.empty(len(values), dtype=object)
    bad: set[str] = set()
    for i, value in enumerate(values):
        key = "" if value is None else str(value).strip().lower()
        label = _LABEL_WORDS.get(key)
        if label is None:
            bad.add(key)
        out[i] = label
    if bad:
        raise DataError(f"Sentiment labels must be negative/neutral/positive (or neg/neu/pos, -1/0/1); "
                        f"found {sorted(bad)[:10]}. Map them before training.")
    return out


FORMAT = "cxlens.sentiment_head.v1"


class SentimentHead(ClassifierMixin, BaseEstimator):
    """Logistic regression on [frozen encoder vector, lexicon polarity] with temperature calibration.

    Parameters
    ----------
    encoder : registered encoder name (``"minilm"``: ONNX int8 when available; ``"tfidf"`` for tests).
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

    Attributes
    ----------
    classes_ : negative, neutral, positive.
    coef_, intercept_ : the linear head.
    temperature_ : the calibration temperature.
    encoder_dir_ : the tuned encoder's folder when ``finetune_epochs > 0``, else ``None``. Such a head
        encodes with its own encoder: ``embeddings=`` from the shared encoder are not used.

    ``fit``/``predict_proba`` take texts; pass ``embeddings=`` (the encoder's vectors of
    :func:`normalise_post` of the same texts) to reuse an encoding.
    """

    def __init__(self, *, encoder: str = "minilm", lexicon_features: bool = True, C: float = 2.0,
                 class_weight: str | None = "balanced", cv: int = 3, max_iter: int = 3000,
                 random_state: int = 0, finetune_epochs: int = 0, learning_rate: float = 5e-5,
                 device: str = "auto", encoder_dir: str | Path | None = None) -> None:
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

    def _encoder(self):
        from cxlens.nlp.encoders import TUNABLE_ENCODERS, get_encoder, get_tuned_encoder

        tuned = getattr(self, "encoder_dir_", None)
        if tuned is not None:
            return get_tuned_encoder(tuned, device=self.device, backend=TUNABLE_ENCODERS.get(self.encoder, "auto"))
        return get_encoder(self.encoder)

    def features(self, texts: Sequence[str], *, embeddings: np.ndarray | None = None) -> np.ndarray:
        """The head's input: encoder vectors (+ lexicon polarity) of the normalised posts."""
        from cxlens.nlp.sentiment._lexicon import LexiconSentiment

        posts = [normalise_post(t) for t in texts]
        if getattr(self, "encoder_dir_", None) is not None:
            embeddings = None  # vectors of the shared (stock) encoder do not fit a tuned head
        if embeddings is None:
            embeddings = self._encoder().encode(posts)
        elif len(embeddings) != len(posts):
            raise DataError(f"embeddings has {len(embeddings)} rows for {len(posts)} texts.")
        parts = [np.asarray(embeddings, dtype=np.float64)]
        if self.lexicon_features:
            parts.append(LexiconSentiment().polarity([p[:MAX_LEXICON_CHARS] for p in posts]))
        return np.hstack(parts)

    def fit(self, texts: Sequence[str], y: Sequence[object], *, embeddings: np.ndarray | None = None,
            progress=None) -> SentimentHead:
        """Fit on posts and their labels (any spelling :func:`normalise_labels` reads).

        ``progress(stage, done, total)`` is called while fine-tuning (``finetune_epochs > 0``).
        """
        from sklearn.linear_model import LogisticRegression
        from sklearn.model_selection import StratifiedKFold

        from cxlens.nlp.classify import fit_temperature

        labels = normalise_labels(y)
        missing = set(LABELS) - set(labels)
        if missing:
            raise DataError(f"Training labels lack {sorted(missing)}: a sentiment model needs examples of "
                            "negative, neutral and positive posts.")
        if len(labels) != len(texts):
            raise DataError(f"{len(texts)} texts but {len(labels)} labels.")
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
            self.encoder_dir_ = finetune_encoder([normalise_post(t) for t in texts], target,
                                                 base=tuning_base(self.encoder),
                                                 epochs=self.finetune_epochs, lr=self.learning_rate,
                                                 seed=self.random_state, device=self.device, progress=progress)
        X = self.features(texts, embeddings=embeddings)

        def model():
            return LogisticRegression(C=self.C, class_weight=self.class_weight, max_iter=self.max_iter)

        temperature = 1.0
        folds = min(self.cv, int(np.bincount(target, minlength=3).min()))
        if folds >= 2:
            logits = np.zeros((len(target), len(LABELS)))
            split = StratifiedKFold(folds, shuffle=True, random_state=self.random_state)
            for train, test in split.split(X, target):
                logits[test] = model().fit(X[train], target[train]).decision_function(X[test])
            temperature = fit_temperature(logits, target)
        head = model().fit(X, target)
        self.classes_ = np.asarray(LABELS, dtype=object)
        self.coef_ = head.coef_.astype(np.float32)
        self.intercept_ = head.intercept_.astype(np.float32)
        self.temperature_ = float(temperature)
        self.n_features_in_ = X.shape[1]
        return self

    def _check_fitted(self) -> None:
        if not hasattr(self, "coef_"):
            raise NotFittedError(self)

    def predict_proba(self, texts: Sequence[str], *, embeddings: np.ndarray | None = None) -> np.ndarray:
        """``(n, 3)`` calibrated probabilities in the order of :data:`LABELS`."""
        self._check_fitted()
        if not len(texts):
            return np.zeros((0, len(LABELS)))
        X = self.features(texts, embeddings=embeddings)
        if X.shape[1] != self.coef_.shape[1]:
            raise DataError(f"The head expects {self.coef_.shape[1]} features, got {X.shape[1]}: "
                            f"was it trained with another encoder than {self.encoder!r}?")
        z = (X @ self.coef_.T.astype(np.float64) + self.intercept_) / self.temperature_
        z -= z.max(axis=1, keepdims=True)
        p = np.exp(z)
        return p / p.sum(axis=1, keepdims=True)

    def predict(self, texts: Sequence[str], *, embeddings: np.ndarray | None = None) -> np.ndarray:
        return self.classes_[self.predict_proba(texts, embeddings=embeddings).argmax(axis=1)]

    def save(self, path: str | Path) -> Path:
        """``head.npz`` (weights, no pickle) + ``params.json`` in the folder ``path``."""
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


def load_sentiment_head(path: str | Path) -> SentimentHead:
    """A head written by :meth:`SentimentHead.save`."""
    path = Path(path)
    meta_file, weights = path / "params.json", path / "head.npz"
    if not meta_file.is_file() or not weights.is_file():
        raise DataError(f"{path} is not a saved cxlens sentiment model (expected params.json and head.npz).")
    meta = json.loads(meta_file.read_text())
    if meta.get("format") != FORMAT:
        raise DataError(f"{meta_file}: unknown model format {meta.get('format')!r} (expected {FORMAT}).")
    head = SentimentHead(**meta["params"])
    with np.load(weights) as arrays:
        head.coef_ = arrays["coef"].astype(np.float32)
        head.intercept_ = arrays["intercept"].astype(np.float32)
    head.classes_ = np.asarray(meta["classes"], dtype=object)
    head.temperature_ = float(meta["temperature"])
    head.n_features_in_ = int(meta["n_features"])
    head.encoder_dir_ = None
    if meta.get("encoder_dir"):
        from cxlens.nlp.encoders import stored_tuned_encoder

        head.encoder_dir_ = stored_tuned_encoder(path / meta["encoder_dir"], model=path)
    return head


class SentimentModel:
    """A fitted :class:`SentimentHead` plus the rules of :func:`score_sentiment`.

    Parameters
    ----------
    head : a fitted :class:`SentimentHead`.
    lexicon_for_no_letters : score posts without letters (emoji only) with the lexicon.
    support_rules : where a support phrase of :data:`cxlens.nlp.sentiment._lexicon.PHRASE_REWRITES` with a
        clear polarity is found ("no problems at all", "can't complain", "not working", "thanks
        for nothing"), the probabilities are averaged with that polarity, so the phrase decides
        the label and the model's disagreement lowers the confidence (``sentiment_flag``
        ``support_rule``).
    """

    def __init__(self, head: SentimentHead, *, lexicon_for_no_letters: bool = True,
                 support_rules: bool = True) -> None:
        self.head = head
        self.lexicon_for_no_letters = lexicon_for_no_letters
        self.support_rules = support_rules

    def predict_proba(self, texts: Sequence[str], *, embeddings: np.ndarray | None = None) -> np.ndarray:
        """``(n, 3)`` calibrated probabilities in the order of :data:`LABELS`."""
        return self.head.predict_proba(texts, embeddings=embeddings)


def is_shipped_model(name: str | Path) -> bool:
    """Whether ``name`` means a shipped model (:data:`SHIPPED_MODELS`) to :func:`load_sentiment_model`: a shipped
    name wins over a folder of the same name in the working directory (``./tuned`` is the folder)."""
    return str(name) in SHIPPED_MODELS


def load_sentiment_model(path: str | Path | None = None, *, encoder: str | None = None) -> SentimentModel:
    """A shipped model by name (:data:`SHIPPED_MODELS`), or a folder saved by ``cxlens train sentiment``.

    A shipped name wins over a folder of the same name in the working directory (``./tuned`` is the folder).
    ``None`` or ``"tuned"``: the distilled student (``minilm-l2``) fine-tuned on SemEval tweets, with its
    own encoder (``nlp/artifacts/sentiment``, model card there). ``"frozen"``: the head on the frozen
    all-MiniLM-L6-v2 vectors (``nlp/artifacts/sentiment_frozen``), which can read vectors another part
    of a run already made. ``encoder`` runs a head fitted on a frozen encoder on another registered
    encoder of the same vector space (e.g. ``"minilm-l2"`` for a head fitted on ``"minilm"`` vectors); a
    fine-tuned head, the default one included, refuses another encoder (:class:`~cxlens.errors.ConfigError`).
    """
    shipped = path is None or is_shipped_model(path)
    if shipped and path is not None and Path(path).exists():
        log.warning("%r names the shipped sentiment model; the folder %r here is not read (pass ./%s for it)",
                    str(path), str(path), str(path))
    folder = SHIPPED_MODELS[str(path or "tuned")] if shipped else Path(path)
    head = load_sentiment_head(folder)
    if encoder is not None and encoder != head.encoder:
        if getattr(head, "encoder_dir_", None) is not None:
            what = "The shipped tuned model" if shipped else str(folder)
            hint = " (its encoder is already the fast two-layer student)" if shipped else ""
            raise ConfigError(f"{what} encodes with its own fine-tuned encoder{hint}; it cannot run on "
                              f"{encoder!r}. Leave the encoder option out, or pass a model trained on a frozen "
                              "encoder.")
        from cxlens.nlp.encoders import check_encoder_name

        head.encoder = check_encoder_name(encoder)
    return SentimentModel(head)


def train_sentiment(texts: Sequence[str], labels: Sequence[object], *, encoder: str = "minilm",
                    lexicon_features: bool = True, C: float = 2.0, class_weight: str | None = "balanced",
                    embeddings: np.ndarray | None = None, random_state: int = 0, finetune_epochs: int = 0,
                    learning_rate: float = 5e-5, device: str = "auto", progress=None) -> SentimentHead:
    """Fit a :class:`SentimentHead` on labelled posts (wrap it in :class:`SentimentModel` to score).

    ``finetune_epochs > 0`` fine-tunes the encoder on the labels first (see :class:`SentimentHead`).
    """
    head = SentimentHead(encoder=encoder, lexicon_features=lexicon_features, C=C, class_weight=class_weight,
                         random_state=random_state, finetune_epochs=finetune_epochs, learning_rate=learning_rate,
                         device=device)
    return head.fit(texts, labels, embeddings=embeddings, progress=progress)


def _has_letters(text: str) -> bool:
    return bool(_LETTER.search(_URL.sub(" ", _USER.sub(" ", text))))


def score_sentiment(texts: Sequence[str], *, model: SentimentModel | None = None, fast: bool = False,
                    languages: Sequence[str] | None = None, embeddings: np.ndarray | None = None,
                    batch_size: int = 512) -> pd.DataFrame:
    """Score posts; one row per text with the columns of :data:`SENTIMENT_COLUMNS`.

    Parameters
    ----------
    texts : the posts (``None`` / NaN count as empty).
    model : a :class:`SentimentModel`; default the shipped one (ignored when ``fast``).
    fast : use the lexicon (:class:`~cxlens.nlp.sentiment._lexicon.LexiconSentiment`) instead of the model.
    languages : known language codes per text (skips detection).
    embeddings : the encoder's vectors of :func:`normalise_post` of each text, when a run already has
        them (the model then encodes nothing).
    batch_size : texts per encoder call.
    """
    from cxlens.nlp.sentiment._language import UNDETERMINED, LanguageDetector
    from cxlens.nlp.sentiment._lexicon import LexiconSentiment, support_cues

    if isinstance(texts, str):
        raise DataError("score_sentiment takes a sequence of texts, not a single string: wrap it in a list.")
    posts = [normalise_post(t) for t in texts]
    n = len(posts)
    if embeddings is not None and len(embeddings) != n:
        raise DataError(f"embeddings has {len(embeddings)} rows for {n} texts.")
    label = np.full(n, "neutral", dtype=object)
    score = np.zeros(n, dtype=np.float64)
    confidence = np.full(n, 1.0 / 3.0, dtype=np.float64)
    flag = np.full(n, None, dtype=object)
    if languages is None:
        language = LanguageDetector().detect(posts) if n else np.empty(0, dtype=object)
    else:
        if len(languages) != n:
            raise DataError(f"languages has {len(languages)} values for {n} texts.")
        language = np.asarray([str(v).lower() if v is not None else UNDETERMINED for v in languages], dtype=object)

    empty = np.array([not p.strip() for p in posts], dtype=bool)
    letters = np.array([_has_letters(p) for p in posts], dtype=bool)
    unsupported = ~empty & letters & ~np.isin(language, list(SUPPORTED_LANGUAGES))
    flag[empty] = "no_text"
    flag[unsupported] = "unsupported_language"

    lexicon_rows = ~empty & ~unsupported if fast else ~empty & ~letters
    model_rows = np.zeros(n, dtype=bool) if fast else ~empty & letters & ~unsupported
    if not fast and model is not None and not model.lexicon_for_no_letters:
        model_rows |= ~empty & ~letters
        lexicon_rows[:] = False

    if lexicon_rows.any():
        idx = np.flatnonzero(lexicon_rows)
        lex_labels, lex_scores, lex_conf = LexiconSentiment().score([posts[i][:MAX_LEXICON_CHARS] for i in idx])
        label[idx], score[idx], confidence[idx] = lex_labels, lex_scores, lex_conf
        if not fast:
            flag[idx] = "lexicon"
    if model_rows.any():
        model = model or load_sentiment_model()
        idx = np.flatnonzero(model_rows)
        for start in range(0, len(idx), batch_size):
            part = idx[start:start + batch_size]
            batch = [posts[i] for i in part]
            proba = model.predict_proba(batch, embeddings=None if embeddings is None else embeddings[part])
            if model.support_rules:
                cue = support_cues(batch)
                if cue.any():  # a support phrase decides the label; the model only tempers the confidence
                    rows = np.flatnonzero(cue)
                    target = np.where(cue[rows] > 0, 2, 0)
                    onehot = np.zeros((len(rows), len(LABELS)))
                    onehot[np.arange(len(rows)), target] = 1.0
                    proba[rows] = 0.5 * proba[rows] + 0.5 * onehot
                    flag[part[rows]] = "support_rule"
            best = proba.argmax(axis=1)
            label[part] = np.asarray(LABELS, dtype=object)[best]
            score[part] = proba[:, 2] - proba[:, 0]
            confidence[part] = proba[np.arange(len(part)), best]
    np.clip(score, -1.0, 1.0, out=score)
    return pd.DataFrame({
        "sentiment": label,
        "sentiment_score": score,
        "sentiment_confidence": confidence,
        "language": language,
        "sentiment_flag": flag,
    })
