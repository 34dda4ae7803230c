"""Procedures from the ABCD agent guidelines: scorecards per flow, and dialogues as cxlens tables.

ABCD (Chen et al., NAACL 2021; MIT) lists, per subflow (the customer's intent), the actions an
agent must take in order (``kb.json``), with the guideline text for each action
(``guidelines.json``) and the flow -> subflow tree (``ontology.json``). :func:`abcd_scorecards`
turns them into one scorecard per flow: a script per subflow whose steps are the required
actions, each ``after`` the previous one, detected on the action (``system``) messages by the
action's button tag or its system text; plus two agent steps from the guidelines (greet in the
opening, offer further help in the closing).

Regenerate the shipped files with::

    cxlens scorecard from-abcd --abcd-dir ../shared/data/abcd --out cxlens/data/scorecards

:func:`abcd_to_tables` turns ABCD conversations (``abcd_sample.json`` or the full release) into
validated-shaped ``tickets`` (``request_type`` = subflow) and ``messages`` (action turns become
``system`` messages whose text starts with the button tag, e.g. ``[pull-up-account] Account has
been pulled up for ...``), so the ordinary QA run checks the procedure.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import pandas as pd

from cxlens.errors import DataError

__all__ = ["ABCD_ACTION_TEXTS", "abcd_scorecards", "abcd_to_tables", "load_abcd_dialogues", "write_abcd_scorecards"]

#: The system text each ABCD action button writes, as a regex (``...`` = a slot value).
ABCD_ACTION_TEXTS: dict[str, str] = {
    "pull-up-account": r"account has been pulled up for",
    "enter-details": r"details of .+ have been entered",
    "verify-identity": r"identity verification in progress",
    "validate-purchase": r"purchase validation in progress",
    "make-password": r"a password has been generated",
    "membership": r"membership level of .+ has been noted",
    "ask-the-oracle": r"querying the system for an answer",
    "update-order": r"order has been updated with",
    "update-account": r"account has been updated with",
    "promo-code": r"a promo code has been created",
    "make-purchase": r"a purchase of .+ was made",
    "offer-refund": r"a refund has been made for the amount of",
    "notify-team": r"the .+ (team )?has been notified",
    "record-reason": r"a reason of .+ has been recorded",
    "shipping-status": r"shipping status of .+ has been noted",
    "subscription-status": r"querying the system for subscription status",
    "send-link": r"a link will be sent",
    "search-faq": r"searching the faq pages",
    "select-faq": r"faq answer related to .+ was selected",
    # these three write the same text; only the button tag tells them apart
    "try-again": r"agent is looking for solutions",
    "log-out-in": r"agent is looking for solutions",
    "instructions": r"agent is looking for solutions",
}
_SEARCH_TOPICS = ("boots", "shirt", "jeans", "jacket", "pricing", "membership", "timing", "policy")
for _topic in _SEARCH_TOPICS:
    ABCD_ACTION_TEXTS[f"search-{_topic}"] = rf"system action: search {_topic}\b"

_ACTION_EXAMPLES = {
    "pull-up-account": "Account has been pulled up for Jane Doe.",
    "validate-purchase": "Purchase validation in progress ...",
    "verify-identity": "Identity verification in progress ...",
    "enter-details": "Details of jdoe123 have been entered.",
}


def _slug(text: str) -> str:
    return re.sub(r"[^a-z0-9]+", "_", text.lower()).strip("_")


def _squash(text: str) -> str:
    return re.sub(r"[^a-z0-9]", "", text.lower())


def _read_json(path: Path) -> Any:
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError as exc:
        raise DataError(f"ABCD file {path} does not exist (expected kb.json, guidelines.json, ontology.json).") from exc
    except json.JSONDecodeError as exc:
        raise DataError(f"{path} is not valid JSON: {exc}") from exc


def _guideline_texts(guidelines: Mapping[str, Any], ontology: Mapping[str, Any]) -> dict[tuple[str, str], dict]:
    """(flow, subflow) -> {"description": ..., "actions": {squashed button: text}, "instructions": [...]}."""
    out: dict[tuple[str, str], dict] = {}
    subflows = ontology["intents"]["subflows"]
    for flow_title, body in guidelines.items():
        flow = _slug(flow_title)
        names = subflows.get(flow, [])
        for sub_title, sub_name in zip(body.get("subflows", {}), names):
            sub = body["subflows"][sub_title]
            actions = {}
            for action in sub.get("actions", []):
                text = " ".join([action.get("text", ""), *action.get("subtext", [])[:2]]).strip()
                actions[_squash(action.get("button", ""))] = re.sub(r"\s+", " ", text)
            out[(flow, sub_name)] = {"title": sub_title, "actions": actions,
                                     "instructions": sub.get("instructions", []),
                                     "flow_description": body.get("description", "")}
    return out


def _action_step(action: str, previous: str | None, guideline: Mapping[str, Any]) -> dict[str, Any]:
    text = ABCD_ACTION_TEXTS.get(action, re.escape(action.replace("-", " ")))
    button_text = guideline.get("actions", {}).get(_squash(action))
    if button_text is None and action.startswith("search-"):
        button_text = guideline.get("actions", {}).get(_squash(action[len("search-"):]))
    description = f"[{action}] " + (button_text or f"The agent performs the {action} action.")
    step: dict[str, Any] = {
        "id": action.replace("-", "_"),
        "description": description[:400],
        "examples": [_ACTION_EXAMPLES.get(action, f"[{action}]")],
        "regexes": [rf"^\[{re.escape(action)}\]", rf"^(\[[a-z-]+\]\s*)?{text}"],
        "speaker": "system",
        "threshold": 0.99,
        "position": f"after:{previous.replace('-', '_')}" if previous else "any",
        "required": True,
        "weight": 1,
    }
    if action in ("try-again", "log-out-in", "instructions"):
        step["regexes"] = [rf"^\[{re.escape(action)}\]"]
    return step


_AGENT_STEPS = [
    {"id": "greet", "description": "The agent greets the customer and asks how they can help.",
     "examples": ["Hi! How can I help you today?", "Hello, thank you for contacting AcmeBrands. How may I help you?"],
     "regexes": [r"^\W*(hi|hello|hey|good (morning|afternoon|evening)|welcome)\b", r"\bhow (can|may) i help\b"],
     "position": "opening", "required": True, "weight": 1},
    {"id": "offer_further_help",
     "description": "The agent wraps up by nicely asking if the customer needs any further assistance.",
     "examples": ["Is there anything else I can help you with today?", "Anything else I can do for you?"],
     "phrases": ["anything else"], "position": "closing", "required": True, "weight": 1},
]


def abcd_scorecards(abcd_dir: str | Path) -> dict[str, dict[str, Any]]:
    """One scorecard (as a mapping) per ABCD flow, from ``kb.json``, ``guidelines.json`` and ``ontology.json``."""
    from cxlens.nlp.qa._scorecard import scorecard_from_dict

    abcd_dir = Path(abcd_dir)
    kb = _read_json(abcd_dir / "kb.json")
    guidelines = _read_json(abcd_dir / "guidelines.json")
    ontology = _read_json(abcd_dir / "ontology.json")
    texts = _guideline_texts(guidelines, ontology)
    cards: dict[str, dict[str, Any]] = {}
    for flow, subflows in ontology["intents"]["subflows"].items():
        scripts = []
        flow_description = ""
        for sub in subflows:
            actions = kb.get(sub)
            if not actions:
                continue
            guideline = texts.get((flow, sub), {})
            flow_description = guideline.get("flow_description", flow_description)
            steps, previous = [], None
            for action in dict.fromkeys(actions):
                steps.append(_action_step(action, previous, guideline))
                previous = action
            scripts.append({"id": sub, "description": f"{guideline.get('title', sub)}: "
                                                      + " ".join(guideline.get("instructions", []))[:300].strip(),
                            "applies_to": [sub, f"{sub}_[0-9]*"], "steps": steps})
        card = {"name": f"abcd_{flow}",
                "description": f"ABCD agent guidelines, flow {flow} ({flow_description}): the required actions "
                               "of each subflow in order (kb.json), greeting and offering further help.",
                "version": "1", "opening_window": 2, "closing_window": 3,
                "steps": [dict(s) for s in _AGENT_STEPS], "scripts": scripts}
        scorecard_from_dict(card, source=f"abcd_{flow}")  # validate before anyone writes it
        cards[f"abcd_{flow}"] = card
    every = {"name": "abcd_all", "description": "ABCD agent guidelines, every flow: the required actions of each "
                                                "subflow in order (kb.json), greeting and offering further help.",
             "version": "1", "opening_window": 2, "closing_window": 3, "steps": [dict(s) for s in _AGENT_STEPS],
             "scripts": [script for card in cards.values() for script in card["scripts"]]}
    scorecard_from_dict(every, source="abcd_all")
    cards["abcd_all"] = every
    return cards


def write_abcd_scorecards(abcd_dir: str | Path, out_dir: str | Path) -> list[Path]:
    """Write ``abcd_<flow>.yaml`` files; returns their paths."""
    from cxlens.nlp.qa._scorecard_writer import write_scorecard

    header = ("Generated from the ABCD agent guidelines (kb.json, guidelines.json, ontology.json; MIT, Chen et al. 2021)\n"
              "by: cxlens scorecard from-abcd --abcd-dir ../shared/data/abcd --out cxlens/data/scorecards\n"
              "Do not edit by hand: change the generator (cxlens/nlp/procedures.py) and regenerate.")
    return [write_scorecard(card, Path(out_dir) / f"{name}.yaml", header=header)
            for name, card in abcd_scorecards(abcd_dir).items()]


def load_abcd_dialogues(path: str | Path) -> list[dict[str, Any]]:
    """ABCD conversations from ``abcd_sample.json`` (a list) or a release file (``{"train": [...], ...}``)."""
    data = _read_json(Path(path))
    if isinstance(data, dict):
        data = [c for split in ("train", "dev", "test") for c in data.get(split, [])]
    if not isinstance(data, list):
        raise DataError(f"{path}: expected a list of ABCD conversations.")
    return data


def abcd_to_tables(conversations: Sequence[Mapping[str, Any]], *, start: str = "2021-01-01") -> tuple[pd.DataFrame, pd.DataFrame]:
    """``(tickets, messages)`` frames in the canonical shape from ABCD conversations.

    Action turns become ``system`` messages prefixed with their button tag, taken from the
    delexicalised targets when present. Messages are one second apart.
    """
    t0 = pd.Timestamp(start, tz="UTC")
    tickets, messages = [], []
    for n, conv in enumerate(conversations):
        tid = str(conv.get("convo_id", n))
        scenario = conv.get("scenario", {})
        created = t0 + pd.Timedelta(hours=n)
        tickets.append({"ticket_id": tid, "created_at": created, "channel": "chat",
                        "request_type": str(scenario.get("subflow", "")).lower() or None,
                        "flow": scenario.get("flow"), "agent_id": conv.get("agent_id")})
        delexed = conv.get("delexed") or []
        for i, (speaker, text) in enumerate(conv.get("original", [])):
            role = {"agent": "agent", "customer": "customer", "action": "system"}.get(speaker, "system")
            if role == "system" and i < len(delexed):
                targets = delexed[i].get("targets") or []
                if len(targets) > 2 and targets[2]:
                    text = f"[{targets[2]}] {text}"
            messages.append({"ticket_id": tid, "message_id": f"{tid}-{i + 1}", "sent_at": created + pd.Timedelta(seconds=i),
                             "author_role": role, "author_id": None if role != "agent" else conv.get("agent_id"),
                             "text": text})
    return pd.DataFrame(tickets), pd.DataFrame(messages)
