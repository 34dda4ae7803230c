"""The default request-type taxonomy, its label mapping from public data, and the shipped model.

Labels (``request_type`` column values; lower-case snake case)::

    cancellation, refund, return, shipping_delivery, order_status, how_to, product_availability,
    sales_pricing, technical_issue, account, billing_payment, complaint, feedback_praise, other

The shipped model (``nlp/artifacts/request_type/``) is a :class:`~cxlens.nlp.classify._classifier.TextClassifier`
(logistic regression on MiniLM embeddings, temperature-calibrated, ``other`` below the threshold)
trained only on Bitext (CDLA-Sharing-1.0) and BANKING77 (CC BY 4.0) through the tables below;
docs/models/request_type.md explains every choice and the model card gives the held-out metrics.

    >>> from cxlens.nlp.classify._request_types import load_default_model
    >>> model = load_default_model()
    >>> labels, confidence = model.predict_confidence(["where is my parcel?"])
"""

from __future__ import annotations

import re
from pathlib import Path

from cxlens._resources import shipped_path
from cxlens.errors import DataError

__all__ = [
    "BANKING77_MAP",
    "BITEXT_MAP",
    "DEFAULT_MODEL_DIR",
    "REQUEST_TYPES",
    "OUT_OF_SCOPE_PROBES",
    "build_training_frame",
    "load_default_model",
    "train_default_model",
]

#: label -> description (also usable for zero-shot with :class:`cxlens.nlp.classify._zeroshot.ZeroShotClassifier`).
REQUEST_TYPES: dict[str, str] = {
    "cancellation": "the customer wants to cancel an order, a transfer, a subscription or close the account",
    "refund": "the customer asks for money back, about a refund policy or where a refund is",
    "return": "the customer wants to send a product back or exchange it",
    "shipping_delivery": "delivery options, delivery time, shipping address, a parcel or card not arrived",
    "order_status": "the status of an order, tracking an order, or changing an existing order",
    "how_to": "how to do something with the product or service, how a feature works",
    "product_availability": "whether a product, feature, currency, country or payment method is available or supported",
    "sales_pricing": "prices, fees, exchange rates, buying or placing a new order",
    "technical_issue": "something does not work: a card, the app, a feature, a machine",
    "account": "creating, editing, accessing or securing an account, identity verification, passwords",
    "billing_payment": "invoices, payment methods, charges, pending, declined or unrecognised payments and transfers",
    "complaint": "the customer complains or wants to file a claim",
    "feedback_praise": "the customer wants to give feedback, a review or praise",
    "other": "anything else, e.g. asking to talk to a person",
}

#: Bitext intent -> request type (27 intents).
BITEXT_MAP: dict[str, str] = {
    "cancel_order": "cancellation",
    "check_cancellation_fee": "cancellation",
    "delete_account": "cancellation",
    "check_refund_policy": "refund",
    "get_refund": "refund",
    "track_refund": "refund",
    "change_shipping_address": "shipping_delivery",
    "set_up_shipping_address": "shipping_delivery",
    "delivery_options": "shipping_delivery",
    "delivery_period": "shipping_delivery",
    "track_order": "order_status",
    "change_order": "order_status",
    "place_order": "sales_pricing",
    "create_account": "account",
    "edit_account": "account",
    "recover_password": "account",
    "registration_problems": "account",
    "switch_account": "account",
    "newsletter_subscription": "account",
    "check_invoice": "billing_payment",
    "get_invoice": "billing_payment",
    "check_payment_methods": "billing_payment",
    "payment_issue": "billing_payment",
    "complaint": "complaint",
    "review": "feedback_praise",
    "contact_customer_service": "other",
    "contact_human_agent": "other",
}

_B77 = {
    "cancellation": "cancel_transfer terminate_account",
    "refund": "request_refund Refund_not_showing_up",
    "shipping_delivery": "card_arrival card_delivery_estimate",
    "how_to": ("card_linking automatic_top_up exchange_via_app top_up_limits getting_virtual_card get_physical_card "
               "topping_up_by_card disposable_card_limits transfer_timing change_pin receiving_money "
               "transfer_into_account verify_top_up getting_spare_card top_up_by_cash_or_cheque order_physical_card "
               "get_disposable_virtual_card activate_my_card card_about_to_expire"),
    "product_availability": ("fiat_currency_support age_limit supported_cards_and_currencies card_acceptance "
                             "visa_or_mastercard atm_support apple_pay_or_google_pay country_support"),
    "sales_pricing": ("exchange_rate top_up_by_bank_transfer_charge exchange_charge top_up_by_card_charge "
                      "cash_withdrawal_charge"),
    "technical_issue": ("card_not_working contactless_not_working card_swallowed beneficiary_not_allowed "
                        "virtual_card_not_working"),
    "account": ("lost_or_stolen_card pin_blocked edit_personal_details why_verify_identity unable_to_verify_identity "
                "compromised_card passcode_forgotten lost_or_stolen_phone verify_source_of_funds verify_my_identity"),
    "billing_payment": ("card_payment_wrong_exchange_rate extra_charge_on_statement pending_cash_withdrawal "
                        "pending_top_up "
                        "wrong_amount_of_cash_received card_payment_fee_charged transfer_not_received_by_recipient "
                        "top_up_reverted balance_not_updated_after_cheque_or_cash_deposit card_payment_not_recognised "
                        "direct_debit_payment_not_recognised declined_cash_withdrawal pending_card_payment "
                        "declined_transfer declined_card_payment pending_transfer transaction_charged_twice "
                        "reverted_card_payment? transfer_fee_charged failed_transfer "
                        "wrong_exchange_rate_for_cash_withdrawal "
                        "top_up_failed balance_not_updated_after_bank_transfer cash_withdrawal_not_recognised"),
}
#: BANKING77 intent -> request type (77 intents).
BANKING77_MAP: dict[str, str] = {intent: label for label, names in _B77.items() for intent in names.split()}

#: Product-return rule: BANKING77 ``request_refund`` queries about sending an item back become ``return``
#: (neither data set has a return intent; this rule gives the label its only examples).
RETURN_PATTERN = re.compile(r"\b(?:return(?:ed|ing)? (?:it|this|that|an? (?:item|product|purchase))|return purchase"
                            r"|send (?:it|this|that|the (?:item|product)) back|wrong (?:colou?r|size))\b",
                            re.IGNORECASE)

DEFAULT_MODEL_DIR = shipped_path("cxlens.nlp", "artifacts", "request_type")

#: Out-of-scope probes (written for this check, not training data): chit-chat and off-topic messages
#: that should come out as ``other``; the model card reports the share that does.
OUT_OF_SCOPE_PROBES = (
    "hello", "hi there", "thanks", "thank you so much", "ok", "good morning", "what's the weather like tomorrow",
    "I love pizza", "tell me a joke", "who won the football game yesterday", "can you recommend a good movie",
    "What time is it in Tokyo?", "asdf qwerty", "lol", "how old are you", "what is the capital of France",
    "my cat is sleeping on the sofa", "happy new year!", "is this a bot?", "test",
)


def build_training_frame(data_dir: str | Path):
    """Bitext + BANKING77 mapped to :data:`REQUEST_TYPES`.

    Columns ``text``, ``request_type``, ``source``, ``intent``.
    """
    import pandas as pd

    data_dir = Path(data_dir)
    bitext_file = data_dir / "bitext" / "bitext_customer_support.csv"
    b77_file = data_dir / "banking77" / "train.csv"
    for f in (bitext_file, b77_file):
        if not f.is_file():
            raise DataError(f"{f} not found: the request-type model is trained on ../shared/data (Bitext, BANKING77).")
    bitext = pd.read_csv(bitext_file)
    b77 = pd.read_csv(b77_file)
    unmapped = (set(bitext["intent"]) - set(BITEXT_MAP)) | (set(b77["category"]) - set(BANKING77_MAP))
    if unmapped:
        raise DataError(f"Intents without a request-type mapping: {sorted(unmapped)}.")
    a = pd.DataFrame({"text": bitext["instruction"].astype(str), "intent": bitext["intent"], "source": "bitext"})
    a["request_type"] = a["intent"].map(BITEXT_MAP)
    b = pd.DataFrame({"text": b77["text"].astype(str), "intent": b77["category"], "source": "banking77"})
    b["request_type"] = b["intent"].map(BANKING77_MAP)
    is_return = (b["intent"] == "request_refund") & b["text"].str.contains(RETURN_PATTERN)
    b.loc[is_return, "request_type"] = "return"
    frame = pd.concat([a, b], ignore_index=True)
    frame = frame[frame["text"].str.strip() != ""].drop_duplicates("text").reset_index(drop=True)
    return frame[["text", "request_type", "source", "intent"]]


def train_default_model(data_dir: str | Path, *, out_dir: str | Path | None = None, test_size: float = 0.2,
                        threshold: float = 0.3, C: float = 10.0, min_similarity: float | None = 0.45,
                        encoder: str = "minilm", random_state: int = 0):
    """Train, evaluate on a held-out split, refit on everything, save; returns ``(model, metrics dict)``."""
    import numpy as np
    from sklearn.metrics import accuracy_score, classification_report, f1_score
    from sklearn.model_selection import train_test_split

    from cxlens.nlp.classify._classifier import TextClassifier

    frame = build_training_frame(data_dir)
    y = frame["request_type"].to_numpy(dtype=object)
    strat = frame["request_type"] + "/" + frame["source"]
    strat = strat.where(strat.map(strat.value_counts()) >= 2, frame["request_type"])
    tr, te = train_test_split(np.arange(len(frame)), test_size=test_size, stratify=strat, random_state=random_state)
    params = {"encoder": encoder, "head": "logreg", "C": C, "threshold": threshold, "class_weight": "balanced",
              "min_similarity": min_similarity, "random_state": random_state}
    texts = frame["text"].tolist()
    emb = TextClassifier(encoder=encoder).encode(texts)
    held = TextClassifier(**params).fit(emb[tr], y[tr])
    proba = held.predict_proba(emb[te])
    argmax = held.classes_[proba.argmax(1)]
    labels, conf = held.predict_confidence(emb[te])
    probe_emb = held.encode(list(OUT_OF_SCOPE_PROBES))
    probe_labels, _ = held.predict_confidence(probe_emb)
    sims = held.similarity(emb[te]) if min_similarity is not None else None
    probe_sims = held.similarity(probe_emb) if min_similarity is not None else None
    metrics = {
        "n_train": int(len(tr)), "n_test": int(len(te)),
        "accuracy": float(accuracy_score(y[te], argmax)),
        "macro_f1": float(f1_score(y[te], argmax, average="macro")),
        "accuracy_with_other_threshold": float(accuracy_score(y[te], labels)),
        "share_below_threshold": float(np.mean(conf < threshold)),
        "share_other_in_scope": float(np.mean(labels == "other")),
        "out_of_scope_probes_other": float(np.mean(probe_labels == "other")),
        "similarity_quantiles_in_scope": None if sims is None else
        {q: float(np.quantile(sims, q)) for q in (0.01, 0.05, 0.5)},
        "similarity_quantiles_probes": None if probe_sims is None else
        {q: float(np.quantile(probe_sims, q)) for q in (0.5, 0.95, 1.0)},
        "temperature": held.temperature_,
        "per_source_accuracy": {s: float(accuracy_score(y[te][m], argmax[m]))
                                for s in ("bitext", "banking77")
                                for m in [frame["source"].to_numpy()[te] == s]},
        "report": classification_report(y[te], argmax, output_dict=True, zero_division=0),
        "label_counts": frame["request_type"].value_counts().to_dict(),
    }
    model = TextClassifier(**params).fit(emb, y)
    if out_dir is not None:
        model.save(out_dir)
    return model, metrics


def load_default_model():
    """The shipped request-type classifier (needs the MiniLM encoder: ``pip install "cxlens[nlp]"``)."""
    from cxlens.nlp.classify._classifier import load_classifier

    return load_classifier(DEFAULT_MODEL_DIR)
