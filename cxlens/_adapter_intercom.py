"""Intercom exports -> canonical tickets, messages and surveys (``cxlens convert intercom``).

Input: one JSON/JSON Lines file or a folder of them holding conversations as the REST API returns them
(``GET /conversations/{id}``: ``source``, ``conversation_parts``, ``statistics``, ``conversation_rating``), one
per line (``conversations*.jsonl``), a bare array, or list pages (``{"type": "conversation.list",
"conversations": [...], "pages": {...}}``). Times are Unix seconds. The field mapping is in docs/data-model.md
("Intercom").
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from cxlens._adapter_common import (RECORD_KEY, Converted, Ledger, Record, finish, html_to_text, iter_dicts,
                                    latest_versions, load_json_records, to_id as _id, to_seconds, to_utc)

__all__ = ["KINDS", "read_intercom"]

#: what the input should hold (said when nothing usable is found)
EXPECTED = ("conversations*.json / .jsonl (conversation objects with conversation_parts) or conversation.list "
            "pages")

KINDS = {"conversations": ("conversations",)}
STATES = {"open": "open", "snoozed": "pending", "closed": "solved"}
CHANNELS = {"conversation": "chat", "email": "email", "push": "chat", "chat": "chat", "facebook": "social",
            "twitter": "social", "instagram": "social", "whatsapp": "social", "sms": "sms", "phone_call": "phone"}
CUSTOMER_TYPES = {"user", "lead", "contact"}
#: parts that carry a message (the others - open, close, assignment without a body, snoozed, ... - are events)
NOTE_PARTS = {"note", "note_and_reopen"}


def _role(part_type: str, author_type: str) -> str:
    if author_type == "bot":
        return "bot"  # Operator, Fin AI agent, custom bots
    if part_type in NOTE_PARTS:
        return "note"
    if author_type in CUSTOMER_TYPES:
        return "customer"
    if author_type == "admin":
        return "agent"
    return "system"


def read_intercom(path: str | Path, *, encoding: str = "utf-8") -> Converted:
    """An Intercom conversations export -> tickets, messages, surveys (see the module docstring)."""
    ledger = Ledger()
    records = ledger.add(load_json_records(path, kinds=KINDS, encoding=encoding))
    conversations: list[Record] = []
    for record in records:
        if record.kind != "conversations":
            ledger.reject(record, "not an Intercom conversation")
        elif record.value.get("deleted") is True:
            ledger.reject(record, f"conversation {record.value.get('id')} was deleted in Intercom")
        else:
            conversations.append(record)
    tickets, messages, surveys, figures = [], [], [], []
    for cid, record in latest_versions(conversations, ledger, what="conversation").items():
        c = record.value
        created = to_utc(c.get("created_at"))
        state = str(c.get("state") or ("open" if c.get("open") else "closed")).lower()
        if state not in STATES:
            ledger.reject(record, f"conversation {cid}: unknown state {c.get('state')!r}")
            continue
        source = c.get("source") if isinstance(c.get("source"), dict) else {}
        author = source.get("author") if isinstance(source.get("author"), dict) else {}
        contacts = c.get("contacts") if isinstance(c.get("contacts"), dict) else {}
        contact = next(iter_dicts(contacts.get("contacts")), {})
        stats = c.get("statistics") if isinstance(c.get("statistics"), dict) else {}
        parts_obj = c.get("conversation_parts") if isinstance(c.get("conversation_parts"), dict) else {}
        ai = c.get("ai_agent") if isinstance(c.get("ai_agent"), dict) else {}
        # the first message is the conversation's source
        first_role = _role("comment", str(author.get("type") or "user").lower())
        messages.append({RECORD_KEY: record, "ticket_id": cid, "sent_at": created, "author_role": first_role,
                         "author_id": _id(author.get("id")), "message_id": f"{cid}/source",
                         "text": html_to_text(source.get("body")), "part_type": "source"})
        closes = []
        for part_record in ledger.embedded(record, "conversation_parts", parts_obj.get("conversation_parts"),
                                           {"conversation_id": cid}):
            part = part_record.value
            sent = to_utc(part.get("created_at"))
            if sent is None or _id(part.get("id")) is None:
                ledger.reject(part_record, f"part of conversation {cid}: no id or created_at "
                                           f"{part.get('created_at')!r} is not a valid time")
                continue
            ledger.use(part_record)
            part_type = str(part.get("part_type") or "").lower()
            if part_type in ("close", "closed"):
                closes.append(sent)
            if part.get("body") in (None, ""):
                continue  # an event (assignment, open, close, snooze): it informs the state only
            part_author = part.get("author") if isinstance(part.get("author"), dict) else {}
            messages.append({RECORD_KEY: part_record, "ticket_id": cid, "sent_at": sent,
                             "author_role": _role(part_type, str(part_author.get("type") or "").lower()),
                             "author_id": _id(part_author.get("id")), "message_id": _id(part["id"]),
                             "text": html_to_text(part["body"]), "part_type": part_type})
        resolved = (to_utc(stats.get("last_close_at")) or (max(closes) if closes else None)) \
            if STATES[state] == "solved" else None
        first_human = to_utc(stats.get("first_admin_reply_at"))
        reopens = stats.get("count_reopens")
        delivered = str(source.get("delivered_as") or "")
        channel = str(source.get("type") or "").lower() or None
        tickets.append({
            RECORD_KEY: record, "ticket_id": cid, "created_at": created, "channel": CHANNELS.get(channel, channel),
            "account_id": _id(contact.get("id")) or _id(author.get("id")), "agent_id": _id(c.get("admin_assignee_id")),
            "team": _id(c.get("team_assignee_id")), "subject": html_to_text(source.get("subject")) or c.get("title"),
            "text": html_to_text(source.get("body")), "status": STATES[state],
            "priority": {"priority": "high", "not_priority": "normal"}.get(str(c.get("priority")), None),
            "resolved_at": resolved,
            "reopened": bool(reopens > 0) if isinstance(reopens, (int, float)) else None,
            "self_service": (str(ai.get("resolution_state", "")).lower() in ("assumed_resolution",
                                                                              "confirmed_resolution")
                             and first_human is None) if ai else None,
            "delivered_as": delivered or None, "ai_agent_participated": c.get("ai_agent_participated"),
            "ai_resolution_state": ai.get("resolution_state"),
            "waiting_since": to_utc(c.get("waiting_since")),
            **{f"ic_{name}": stats.get(name) for name in (
                "time_to_assignment", "time_to_admin_reply", "time_to_first_close", "time_to_last_close",
                "median_time_to_reply", "count_reopens", "count_assignments", "count_conversation_parts")},
            "ic_first_admin_reply_at": first_human, "ic_first_close_at": to_utc(stats.get("first_close_at")),
            "ic_last_close_at": to_utc(stats.get("last_close_at")),
        })
        if stats:
            def since(stamp: Any) -> float:
                when = to_utc(stamp)
                return (when - created).total_seconds() if when is not None else float("nan")

            figures.append({"ticket_id": cid, "vendor_first_response_s": since(stats.get("first_admin_reply_at")),
                            "vendor_first_response_business_s": to_seconds(stats.get("time_to_admin_reply")),
                            "vendor_resolution_s": since(stats.get("last_close_at")),
                            "vendor_first_resolution_s": since(stats.get("first_close_at")),
                            "vendor_resolution_business_s": to_seconds(stats.get("time_to_last_close"))})
        rating = c.get("conversation_rating") if isinstance(c.get("conversation_rating"), dict) else None
        if rating and rating.get("rating") is not None:
            score = rating.get("rating")
            when = to_utc(rating.get("created_at"))
            if isinstance(score, (int, float)) and 1 <= score <= 5 and when is not None:
                teammate = rating.get("teammate") if isinstance(rating.get("teammate"), dict) else {}
                person = rating.get("contact") if isinstance(rating.get("contact"), dict) else {}
                surveys.append({RECORD_KEY: record, "kind": "csat", "score": float(score), "responded_at": when,
                                "ticket_id": cid, "account_id": _id(person.get("id")),
                                "agent_id": _id(teammate.get("id")), "vendor_score": score,
                                "comment": rating.get("remark")})
            else:  # the conversation is fine; only its rating is unusable: say so in the log of reasons
                tickets[-1]["rating_problem"] = f"conversation_rating {score!r} at {rating.get('created_at')!r} is " \
                                                f"not a 1-5 rating with a valid time"
    return finish("Intercom", path, ledger, tickets=tickets, messages=messages, surveys=surveys,
                  figures=figures, expected=EXPECTED)
