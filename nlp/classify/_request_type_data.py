"""The training data of the shipped request-type model: every source, mapped to the default taxonomy.

Licence-clean sources only (the model card lists each with its licence and counts per class):

* ``bitext``: Bitext customer support (CDLA-Sharing-1.0), 27 intents -> :data:`~._request_types.BITEXT_MAP`;
* ``banking77``: BANKING77 train (CC BY 4.0), 77 intents -> :data:`~._request_types.BANKING77_MAP`, at most
  ``per_intent`` queries per intent so that banking does not drown the other domains;
* ``clinc150``: CLINC150 train (CC BY 3.0): the intents that are support requests -> :data:`CLINC150_MAP`;
  the out-of-scope queries and the assistant intents (weather, recipes, music, small talk...) are real
  negatives for ``other`` (at most ``per_other_intent`` each); :data:`CLINC150_UNUSED` fit no request type
  cleanly and are left out;
* ``ibm``: the first customer tweet of each IBM customer-care conversation in ``dev.json`` (Apache-2.0),
  labelled by us (``request_type_training/ibm_labels.csv``; the 70 dev-set conversations are not in it);
* ``written``: messages our team wrote for this model across domains and channels (shipped with cxlens,
  ``request_type_training/written_set*.csv``), labelled with ``benchmarks/data/request_type_dev/guideline.md``.

Non-commercial sets (airline tweets, TWCS, the Bueck tickets) are never read here: they only measure.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

from cxlens._resources import shipped_path
from cxlens.errors import DataError

__all__ = ["BANKING77_MAP", "BITEXT_MAP", "CLINC150_MAP", "CLINC150_UNUSED", "REAL_SOURCES", "REALISTIC_SOURCES", "RETURN_PATTERN",
           "TRAINING_DIR", "build_training_frame"]

#: our own labels and written messages (shipped)
TRAINING_DIR = shipped_path("cxlens.nlp", "artifacts", "request_type_training")
#: sources written or labelled as real customers write (weighted up against the public intent sets)
REALISTIC_SOURCES = ("ibm", "written", "reviewed")
#: real customer messages labelled by us: the confidence is calibrated on their out-of-fold predictions
REAL_SOURCES = ("ibm", "reviewed")

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

#: CLINC150 intents that are support requests -> request type (every other intent but the unused is ``other``)
CLINC150_MAP: dict[str, str] = {
    "cancel_reservation": "cancellation", "confirm_reservation": "order_status", "order_status": "order_status",
    "flight_status": "order_status", "application_status": "order_status", "lost_luggage": "shipping_delivery",
    "replacement_card_duration": "shipping_delivery", "book_flight": "sales_pricing", "book_hotel": "sales_pricing",
    "order": "sales_pricing", "car_rental": "sales_pricing", "international_fees": "sales_pricing",
    "interest_rate": "sales_pricing", "apr": "sales_pricing", "freeze_account": "account",
    "account_blocked": "account", "report_lost_card": "account", "bill_due": "billing_payment",
    "pay_bill": "billing_payment", "bill_balance": "billing_payment", "min_payment": "billing_payment",
    "card_declined": "billing_payment", "report_fraud": "billing_payment", "redeem_rewards": "how_to",
    "thank_you": "feedback_praise",
}
#: CLINC150 intents between two request types, or between a request and an assistant command: not used
CLINC150_UNUSED = frozenset({
    "pin_change", "damaged_card", "carry_on", "plug_type", "transactions", "user_name", "change_user_name",
    "transfer", "balance", "spending_history", "new_card", "credit_limit_change", "expiration_date",
    "exchange_rate", "travel_notification", "restaurant_reservation", "accept_reservations", "rewards_balance",
    "credit_limit", "routing", "order_checks", "sync_device", "reset_settings", "cancel",
})


def _need(path: Path, what: str) -> Path:
    if not path.is_file():
        raise DataError(f"{path} not found: the request-type model is trained on {what} (see the model card).")
    return path


def _capped(frame, by: str, n: int, seed: int):
    return frame.groupby(by, group_keys=False).apply(lambda g: g.sample(n=min(n, len(g)), random_state=seed))


def _bitext(data_dir: Path):
    import pandas as pd

    raw = pd.read_csv(_need(data_dir / "bitext" / "bitext_customer_support.csv", "Bitext"))
    unmapped = set(raw["intent"]) - set(BITEXT_MAP)
    if unmapped:
        raise DataError(f"Bitext intents without a request-type mapping: {sorted(unmapped)}.")
    out = pd.DataFrame({"text": raw["instruction"].astype(str), "intent": raw["intent"], "source": "bitext"})
    out["request_type"] = out["intent"].map(BITEXT_MAP)
    return out


def _banking77(data_dir: Path, per_intent: int | None, seed: int):
    import pandas as pd

    raw = pd.read_csv(_need(data_dir / "banking77" / "train.csv", "BANKING77"))
    unmapped = set(raw["category"]) - set(BANKING77_MAP)
    if unmapped:
        raise DataError(f"BANKING77 intents without a request-type mapping: {sorted(unmapped)}.")
    out = pd.DataFrame({"text": raw["text"].astype(str), "intent": raw["category"], "source": "banking77"})
    out["request_type"] = out["intent"].map(BANKING77_MAP)
    is_return = (out["intent"] == "request_refund") & out["text"].str.contains(RETURN_PATTERN)
    out.loc[is_return, "request_type"] = "return"
    if per_intent is not None:  # every return example is kept (there are few)
        out = pd.concat([_capped(out[~is_return], "intent", per_intent, seed), out[is_return]])
    return out


def _clinc150(data_dir: Path, per_intent: int, per_other_intent: int, seed: int):
    import pandas as pd

    raw = pd.read_csv(_need(data_dir / "clinc150" / "train.csv", "CLINC150"))
    raw = raw[~raw["intent"].isin(CLINC150_UNUSED)]
    out = pd.DataFrame({"text": raw["text"].astype(str), "intent": raw["intent"], "source": "clinc150"})
    out["request_type"] = out["intent"].map(CLINC150_MAP).fillna("other")
    support = out[out["intent"].isin(CLINC150_MAP)]
    oos = out[out["intent"] == "oos"]
    assistant = out[(out["request_type"] == "other") & (out["intent"] != "oos")]
    return pd.concat([_capped(support, "intent", per_intent, seed), oos,
                      _capped(assistant, "intent", per_other_intent, seed)])


def ibm_first_messages(data_dir: Path) -> dict[str, str]:
    """Conversation id -> the first customer message, of the IBM customer-care ``dev.json``."""
    dialogs = json.loads(_need(data_dir / "ibm_twitter_cdp" / "dev.json", "the IBM customer-care conversations")
                         .read_text(encoding="utf-8"))
    out = {}
    for dialog in dialogs:
        first = next((t for t in dialog.get("dialogContent", []) if "client" in t and t.get("message")), None)
        if first is not None:
            out["ibm:" + dialog["dialogHeader"]["sessionID"]] = first["message"]
    return out


def _ibm(data_dir: Path):
    import pandas as pd

    labels = pd.read_csv(TRAINING_DIR / "ibm_labels.csv", dtype=str)
    texts = ibm_first_messages(data_dir)
    missing = sorted(set(labels["id"]) - set(texts))
    if missing:
        raise DataError(f"{len(missing)} labelled IBM conversations are not in {data_dir / 'ibm_twitter_cdp'} "
                        f"(first: {missing[0]}).")
    return pd.DataFrame({"text": labels["id"].map(texts), "intent": "ibm", "source": "ibm",
                         "request_type": labels["primary"], "secondary": labels["secondary"]})


def _written():
    import pandas as pd

    files = sorted(TRAINING_DIR.glob("written_set*.csv"))
    if not files:
        raise DataError(f"No written_set*.csv in {TRAINING_DIR}: the shipped training messages are missing.")
    parts = [pd.read_csv(f, dtype=str).assign(intent=f.stem) for f in files]
    raw = pd.concat(parts, ignore_index=True).dropna(subset=["text", "primary"])
    return pd.DataFrame({"text": raw["text"], "intent": raw["intent"], "source": "written",
                         "request_type": raw["primary"], "secondary": raw["secondary"]})


def build_training_frame(data_dir: str | Path, *, per_intent: int = 60, per_other_intent: int = 12,
                         reviewed=None, random_state: int = 0):
    """Every source mapped to the default request types.

    Columns ``text``, ``request_type``, ``secondary`` (our own labels only), ``source`` and ``intent`` (the
    source's intent, or the written file). ``reviewed``: a frame of more labelled messages (``text``,
    ``request_type``; e.g. a filled ``cxlens taxonomy review`` file), source ``reviewed``. Exact duplicate texts
    are kept once (the first source wins, so reviewed labels never override the public sets').
    """
    import pandas as pd

    data_dir = Path(data_dir)
    parts = [_bitext(data_dir), _banking77(data_dir, per_intent, random_state),
             _clinc150(data_dir, per_intent, per_other_intent, random_state), _ibm(data_dir), _written()]
    if reviewed is not None and len(reviewed):
        parts.append(pd.DataFrame({"text": reviewed["text"].astype(str), "intent": "reviewed",
                                   "source": "reviewed", "request_type": reviewed["request_type"].astype(str)}))
    frame = pd.concat(parts, ignore_index=True)
    frame["secondary"] = frame.get("secondary", pd.Series(dtype=str)).fillna("")
    frame["text"] = frame["text"].astype(str).str.strip()
    frame = frame[frame["text"] != ""].drop_duplicates("text").reset_index(drop=True)
    return frame[["text", "request_type", "secondary", "source", "intent"]]
