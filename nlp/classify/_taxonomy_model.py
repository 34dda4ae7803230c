"""A taxonomy file as a classifier: zero-shot, few-shot or trained, one interface.

:class:`TaxonomyClassifier` reads a taxonomy (:mod:`._taxonomy`) and becomes, at ``fit``:

* ``trained``: the classifier folder named by the file's ``model`` (the shipped default taxonomy points at
  the shipped model), or a :class:`~._classifier.TextClassifier` trained on ``fit(X, y)`` when labels are
  given (``cxlens train classifier --taxonomy``);
* ``few-shot``: a :class:`~._zeroshot.FewShotClassifier` on the file's examples (each label needs
  ``min_examples``), descriptions counted as one more example each;
* ``zero-shot``: a :class:`~._zeroshot.ZeroShotClassifier` over the descriptions.

``mode="auto"`` picks the first that the file allows, in that order. Keywords (zero- and few-shot) make a
label ``keyword_boost`` times more likely when one of its keywords is in the text. ``other.policy`` decides
whether a text may be ``other`` (``abstain``) or always gets an in-scope label (``never``). ``annotate``
gives the label, its confidence and a second label when its probability reaches ``secondary_min``.
"""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np
import pandas as pd
from sklearn.base import BaseEstimator, ClassifierMixin

from cxlens.errors import ConfigError, DataError, NotFittedError, UnknownNameError
from cxlens.nlp._texts import Texts
from cxlens.nlp.classify._classifier import TextClassifier, load_classifier, second_labels
from cxlens.nlp.classify._taxonomy import DEFAULT_TAXONOMY, Taxonomy, load_taxonomy, write_taxonomy
from cxlens.nlp.classify._zeroshot import FewShotClassifier, ZeroShotClassifier

__all__ = ["MODES", "TaxonomyClassifier", "planned_mode"]

MODES = ("auto", "trained", "few-shot", "zero-shot")


def planned_mode(taxonomy: Taxonomy, *, min_examples: int = 3) -> str:
    """The mode ``mode="auto"`` gives ``taxonomy`` without labelled data: ``trained``, ``few-shot`` or ``zero-shot``."""
    return TaxonomyClassifier(taxonomy=taxonomy, min_examples=min_examples)._resolve_mode(taxonomy, labelled=False)


class TaxonomyClassifier(ClassifierMixin, BaseEstimator):
    """Classify texts into a taxonomy file's labels (see the module docstring).

    Parameters
    ----------
    taxonomy : a taxonomy file or a folder holding ``taxonomy.yaml`` (default: the shipped request types), or a
        loaded :class:`~._taxonomy.Taxonomy`.
    mode : ``"auto"``, ``"trained"``, ``"few-shot"`` or ``"zero-shot"``.
    encoder : the encoder of the zero- and few-shot modes (a trained model keeps its own).
    min_examples : examples every label needs for ``few-shot`` under ``mode="auto"``.
    keyword_boost : factor on a label's probability when one of its keywords is in the text (1: off).
    secondary_min : probability a second label needs to be reported (``None``: never).
    trust_model : load a trained model saved with pickle (see :func:`~._classifier.load_classifier`).
    train_options : keyword options of the :class:`~._classifier.TextClassifier` trained by ``fit(X, y)``.

    Attributes
    ----------
    taxonomy_, mode_, model_ (the fitted zero-shot / few-shot / trained classifier), classes_.
    """

    def __init__(self, *, taxonomy: str | Path | Taxonomy | None = None, mode: str = "auto",
                 encoder: str = "minilm", min_examples: int = 3, keyword_boost: float = 3.0,
                 secondary_min: float | None = 0.25, trust_model: bool = False,
                 train_options: dict | None = None) -> None:
        self.taxonomy = taxonomy
        self.mode = mode
        self.encoder = encoder
        self.min_examples = min_examples
        self.keyword_boost = keyword_boost
        self.secondary_min = secondary_min
        self.trust_model = trust_model
        self.train_options = train_options

    # -- fitting -------------------------------------------------------------------------------
    def _load_taxonomy(self) -> Taxonomy:
        if isinstance(self.taxonomy, Taxonomy):
            return self.taxonomy
        return load_taxonomy(self.taxonomy if self.taxonomy is not None else DEFAULT_TAXONOMY)

    def _resolve_mode(self, tax: Taxonomy, labelled: bool) -> str:
        if self.mode not in MODES:
            raise UnknownNameError(kind="taxonomy mode", name=str(self.mode), known=MODES)
        if labelled:
            if self.mode not in ("auto", "trained"):
                raise ConfigError(f"mode={self.mode!r} does not learn from labelled data; use mode='trained' "
                                  f"(or 'auto') to train on it, or fit() without labels.")
            return "trained"
        if self.mode == "trained" and tax.model is None:
            raise ConfigError(f"The taxonomy {tax.source or tax.name} names no trained `model`; train one with "
                              f"`cxlens train classifier --taxonomy FILE --data labelled.csv --out DIR`, or use "
                              f"mode='few-shot' / 'zero-shot'.")
        if self.mode == "few-shot" and not any(lab.examples for lab in tax.labels):
            raise ConfigError("mode='few-shot' needs examples in the taxonomy file (`examples` under a label).")
        if self.mode != "auto":
            return self.mode
        if tax.model is not None:
            return "trained"
        return "few-shot" if tax.min_examples() >= self.min_examples else "zero-shot"

    def fit(self, X=None, y=None, *, calibration_groups=None) -> TaxonomyClassifier:
        """Build the classifier the taxonomy allows; with labelled ``(X, y)``, train one on them
        (``calibration_groups``: see :meth:`TextClassifier.fit`)."""
        tax = self._load_taxonomy()
        mode = self._resolve_mode(tax, labelled=y is not None)
        other = tax.other_label
        if mode == "trained" and y is not None:
            y = np.asarray([str(v) for v in np.asarray(y, dtype=object).ravel()], dtype=object)
            unknown = sorted(set(y) - set(tax.names) - {other})
            if unknown:
                raise DataError(f"{len(unknown)} labels in the data are not in the taxonomy "
                                f"{tax.source or tax.name}: {', '.join(unknown[:10])}. Add them to the file or "
                                f"map them to its labels.")
            opts = {"class_weight": "balanced", "other_label": other, **(self.train_options or {})}
            if tax.min_confidence is not None:
                opts.setdefault("threshold", tax.min_confidence)
            model = TextClassifier(encoder=self.encoder, **opts).fit(X, y, calibration_groups=calibration_groups)
        elif mode == "trained":
            model = load_classifier(tax.model, trust_model=self.trust_model)
        elif mode == "few-shot":
            texts, labels = tax.example_pairs()
            # every label with examples: prototypes + a logistic head; else prototypes only (a label without
            # examples is its description)
            method = "both" if tax.min_examples() >= 1 else "prototype"
            model = FewShotClassifier(encoder=self.encoder, method=method, descriptions=tax.descriptions(),
                                      other_label=other).fit(texts, labels)
        else:
            model = ZeroShotClassifier(labels=tax.descriptions(), encoder=self.encoder, other_label=other).fit()
        self.taxonomy_, self.mode_, self.model_ = tax, mode, model
        self.classes_ = np.asarray(model.classes_, dtype=object)
        self.keywords_ = {lab: re.compile(r"\b(?:" + "|".join(re.escape(k) for k in kws) + r")\b", re.IGNORECASE)
                          for lab, kws in tax.keywords().items()} if mode != "trained" else {}
        return self

    # -- prediction ----------------------------------------------------------------------------
    def _check_fitted(self) -> None:
        if not hasattr(self, "model_"):
            raise NotFittedError(self)

    def text_encoder(self):
        """The encoder whose vectors the fitted classifier reads (a :class:`~cxlens.nlp.Texts` batch computes
        them once for every component)."""
        self._check_fitted()
        model = self.model_
        return model.text_encoder() if hasattr(model, "text_encoder") else model._encoder()

    def _texts(self, X) -> list[str] | None:
        if isinstance(X, np.ndarray) and X.ndim == 2 and np.issubdtype(X.dtype, np.number):
            return None
        return list(X) if isinstance(X, Texts) else [str(v) for v in X]

    def _inputs(self, X):
        """What the inner classifier reads: a :class:`Texts` batch (vectors computed once), or vectors as given."""
        texts = self._texts(X)
        if texts is None:
            return X, None
        batch = X if isinstance(X, Texts) else Texts.of(texts)
        if isinstance(self.model_, TextClassifier):
            return batch, texts
        return batch.vectors(self.text_encoder()), texts

    def _boost(self, proba: np.ndarray, texts: list[str] | None) -> np.ndarray:
        if not self.keywords_ or texts is None or self.keyword_boost == 1:
            return proba
        proba = proba.copy()
        col = {c: i for i, c in enumerate(self.classes_)}
        for label, pattern in self.keywords_.items():
            hit = np.fromiter((bool(pattern.search(t)) for t in texts), dtype=bool, count=len(texts))
            proba[hit, col[label]] *= self.keyword_boost
        return proba / proba.sum(axis=1, keepdims=True)

    def _scored(self, X) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """``(proba, labels, confidence)`` after keywords and the ``other`` policy."""
        self._check_fitted()
        inputs, texts = self._inputs(X)
        # one pass of the inner classifier: its probabilities, and its own `other` rules decided on them
        model = self.model_
        raw, sim = model._proba_similarity(inputs) if isinstance(model, TextClassifier) else model._scores(inputs)
        labels, _ = model._decide(raw, sim)
        proba = self._boost(raw, texts)
        tax = self.taxonomy_
        in_scope = np.asarray([c != tax.other_label for c in self.classes_])
        if tax.policy == "never":
            p = np.where(in_scope[None, :], proba, -1.0)
            best = p.argmax(axis=1)
            return proba, self.classes_[best].astype(object), proba[np.arange(len(best)), best]
        best = proba.argmax(axis=1)
        conf = proba[np.arange(len(best)), best]
        out = self.classes_[best].astype(object)
        out[np.asarray(labels, dtype=object) == tax.other_label] = tax.other_label
        if tax.min_confidence is not None:
            out[conf < tax.min_confidence] = tax.other_label
        return proba, out, conf

    def predict_proba(self, X) -> np.ndarray:
        return self._scored(X)[0]

    def predict_confidence(self, X) -> tuple[np.ndarray, np.ndarray]:
        """``(labels, confidence)``: out-of-scope texts are the taxonomy's ``other`` label (policy ``abstain``)."""
        _, labels, conf = self._scored(X)
        return labels, conf

    def predict(self, X) -> np.ndarray:
        return self.predict_confidence(X)[0]

    def annotate(self, X) -> pd.DataFrame:
        """``label``, ``confidence``, ``secondary``, ``secondary_confidence`` per text (what a
        :class:`~cxlens.nlp.TextPipeline` attaches, e.g. as ``request_type_secondary``)."""
        proba, labels, conf = self._scored(X)
        out = pd.DataFrame({"label": labels, "confidence": conf})
        if self.secondary_min is not None:
            second, second_conf = second_labels(proba, self.classes_, labels, other_label=self.taxonomy_.other_label,
                                                min_probability=self.secondary_min)
            # object dtype: a missing second label is None in every batch (not NaN in some, None in others)
            out["secondary"] = pd.Series(second, index=out.index, dtype=object)
            out["secondary_confidence"] = second_conf
        return out

    multi_label = False  # one label per text (plus an optional second one in ``annotate``)

    def save(self, path: str | Path) -> Path:
        """A trained taxonomy classifier as a folder: the model's files plus ``taxonomy.yaml`` pointing at them
        (``cxlens predict --taxonomy DIR`` and ``cxlens score --request-types DIR`` read it)."""
        self._check_fitted()
        if not isinstance(self.model_, TextClassifier):
            raise ConfigError(f"A {self.mode_} classifier is its taxonomy file; there is no model to save. Train "
                              f"one on labelled data (fit(X, y)) to save it.")
        folder = Path(path)
        self.model_.save(folder)
        write_taxonomy(self.taxonomy_, folder / "taxonomy.yaml", model=".")
        return folder

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.input_tags.string = True
        return tags
