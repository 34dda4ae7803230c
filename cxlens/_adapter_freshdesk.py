"""Freshdesk exports -> canonical tickets, messages and surveys (``cxlens convert freshdesk``).

Input: one JSON/JSON Lines file or a folder of them, as the v2 API writes them: ticket lists (bare arrays, one
file per page: ``tickets-1.json``; ``include=stats`` for the ``stats`` object, ``include=conversations``
for embedded conversations), conversations (``conversations*.json``: each with ``ticket_id``, or
``{"ticket_id": 7, "conversations": [...]}`` pages) and satisfaction ratings (``satisfaction_ratings*.json``).
The field mapping is in docs/data-model.md ("Freshdesk").
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

from cxlens._adapter_common import (RECORD_KEY, Converted, Ledger, Record, finish, html_to_text,
                                    load_json_records, to_id as _id, to_utc)

__all__ = ["KINDS", "RATING_TO_CSAT", "read_freshdesk"]

#: what the input should hold (said when nothing usable is found)
EXPECTED = ("tickets*.json (the API's ticket lists), conversations*.json and satisfaction_ratings*.json")

KINDS = {
    "tickets": ("tickets",),
    "conversations": ("conversations",),
    "ratings": ("satisfaction_ratings", "ratings"),
}
STATUSES = {2: "open", 3: "pending", 4: "solved", 5: "closed"}
STATUS_NAMES = {"open": "open", "pending": "pending", "resolved": "solved", "closed": "closed"}
PRIORITIES = {1: "low", 2: "medium", 3: "high", 4: "urgent"}
SOURCES = {1: "email", 2: "web", 3: "phone", 5: "social", 6: "social", 7: "chat", 8: "chat", 9: "web",
           10: "email"}
#: Freshdesk's satisfaction scale (103 extremely happy ... -103 extremely unhappy) -> CSAT 1-5. The 5-point
#: survey (103, 102, 100, -102, -103) maps to 5..1 one to one, the 3-point (103, 100, -103) to 5, 3, 1, the
#: 2-point (103, -103) to 5 and 1; the 7-point survey's 101 / -101 share 4 / 2 with 102 / -102.
RATING_TO_CSAT = {103: 5.0, 102: 4.0, 101: 4.0, 100: 3.0, -101: 2.0, -102: 2.0, -103: 1.0}
MERGED = re.compile(r"merged into (?:ticket )?#?\s*(\d+)", re.IGNORECASE)


def _status(value: Any) -> str | None:
    if isinstance(value, str) and not value.strip().isdigit():
        return STATUS_NAMES.get(value.strip().lower(), "pending" if value.strip() else None)
    try:
        code = int(value)
    except (TypeError, ValueError):
        return None
    return STATUSES.get(code, "pending" if code > 5 else None)  # 6+: custom statuses ("Waiting on customer")


def _code(table: dict[int, str], value: Any) -> str | None:
    try:
        return table.get(int(value))
    except (TypeError, ValueError):
        return str(value).lower() if value else None


def read_freshdesk(path: str | Path, *, encoding: str = "utf-8") -> Converted:
    """A Freshdesk export -> tickets, messages, surveys (see the module docstring)."""
    ledger = Ledger()
    by_kind: dict[str, list[Record]] = {}
    for record in ledger.add(load_json_records(path, kinds=KINDS, encoding=encoding)):
        by_kind.setdefault(record.kind, []).append(record)
    for record in by_kind.pop("unknown", []):
        ledger.reject(record, "not a Freshdesk record this adapter knows")
    conversation_records = list(by_kind.get("conversations", []))
    raw_tickets: dict[str, Record] = {}
    for record in by_kind.get("tickets", []):
        t = record.value
        tid = _id(t.get("id"))
        conversation_records += ledger.embedded(record, "conversations", t.get("conversations"),  # include=...
                                                {"ticket_id": tid})
        if tid is None:
            ledger.reject(record, "ticket has no id")
        elif tid in raw_tickets:
            ledger.reject(record, f"repeated ticket {tid} (the first is used)")
        elif to_utc(t.get("created_at")) is None:
            ledger.reject(record, f"ticket {tid}: created_at {t.get('created_at')!r} is not a valid time")
        elif t.get("deleted") is True:
            ledger.reject(record, f"ticket {tid} was deleted in Freshdesk")
        elif t.get("spam") is True:
            ledger.reject(record, f"ticket {tid} was marked as spam")
        elif _status(t.get("status")) is None:
            ledger.reject(record, f"ticket {tid}: unknown status {t.get('status')!r}")
        else:
            raw_tickets[tid] = record
            ledger.use(record)
    set_aside = {_id(r.value.get("id")) for r in by_kind.get("tickets", [])} - set(raw_tickets) - {None}

    convs: dict[str, list[tuple[Record, dict]]] = {}
    for record in conversation_records:
        c = record.value
        tid = _id(c.get("ticket_id"))
        if tid is None:
            ledger.reject(record, "conversation without a ticket_id")
        elif to_utc(c.get("created_at")) is None:
            ledger.reject(record, f"conversation {c.get('id')} of ticket {tid}: created_at {c.get('created_at')!r} "
                                  f"is not a valid time")
        elif _id(c.get("id")) is None:
            ledger.reject(record, f"conversation of ticket {tid} has no id")
        elif tid in set_aside:
            ledger.reject(record, f"conversation of ticket {tid}, which was set aside")
        else:
            convs.setdefault(tid, []).append((record, c))
    merged = {}
    for tid, items in convs.items():
        for _, c in items:
            found = MERGED.search(str(c.get("body_text") or html_to_text(c.get("body")) or ""))
            if c.get("private") and found and found.group(1) != tid:
                merged[tid] = found.group(1)

    tickets, messages, surveys, figures = [], [], [], []
    for tid, record in raw_tickets.items():
        t = record.value
        if tid in merged:
            ledger.reject(record, f"ticket {tid} was merged into ticket {merged[tid]} (its private note says so); "
                                  f"its conversation continues there")
            continue
        stats = t.get("stats") if isinstance(t.get("stats"), dict) else {}
        created = to_utc(t.get("created_at"))
        status = _status(t.get("status"))
        resolved = to_utc(stats.get("resolved_at")) or to_utc(stats.get("closed_at"))
        first = to_utc(stats.get("first_responded_at"))
        tickets.append({
            RECORD_KEY: record, "ticket_id": tid, "created_at": created, "channel": _code(SOURCES, t.get("source")),
            "account_id": _id(t.get("company_id")) or _id(t.get("requester_id")),
            "agent_id": _id(t.get("responder_id")), "team": _id(t.get("group_id")), "subject": t.get("subject"),
            "text": t.get("description_text") or html_to_text(t.get("description")), "status": status,
            "priority": _code(PRIORITIES, t.get("priority")),
            "resolved_at": resolved if status in ("solved", "closed") else None,
            "reopened": stats.get("reopened_at") is not None if stats else None,
            "requester_id": _id(t.get("requester_id")), "freshdesk_type": t.get("type"),
            "tags": ";".join(str(x) for x in t.get("tags") or []) or None,
            "fd_first_responded_at": first, "fd_agent_responded_at": to_utc(stats.get("agent_responded_at")),
            "fd_requester_responded_at": to_utc(stats.get("requester_responded_at")),
            "fd_resolved_at": to_utc(stats.get("resolved_at")), "fd_closed_at": to_utc(stats.get("closed_at")),
            "fd_pending_since": to_utc(stats.get("pending_since")), "fd_reopened_at": to_utc(stats.get("reopened_at")),
            "fd_fr_escalated": t.get("fr_escalated"), "fd_is_escalated": t.get("is_escalated"),
        })
        if first is not None:  # resolved_at is the vendor's own field: comparing it would prove nothing
            figures.append({"ticket_id": tid, "vendor_first_response_s": (first - created).total_seconds()})
    requester_of = {row["ticket_id"]: row["requester_id"] for row in tickets}
    for tid, items in convs.items():
        for record, c in items:
            if tid in merged:
                ledger.reject(record, f"conversation of ticket {tid}, merged into ticket {merged[tid]}")
                continue
            ledger.use(record)
            if c.get("private"):
                role = "note"
            elif c.get("incoming") or (requester_of.get(tid) and _id(c.get("user_id")) == requester_of[tid]):
                role = "customer"
            else:
                role = "agent"
            messages.append({RECORD_KEY: record, "ticket_id": tid, "sent_at": to_utc(c.get("created_at")),
                             "author_role": role, "author_id": _id(c.get("user_id")), "message_id": _id(c.get("id")),
                             "text": c.get("body_text") or html_to_text(c.get("body")),
                             "private": c.get("private"), "incoming": c.get("incoming"),
                             "fd_source": c.get("source")})
    for row in tickets:  # the description is the ticket's first customer message (not among its conversations)
        record = row[RECORD_KEY]
        messages.append({RECORD_KEY: record, "ticket_id": row["ticket_id"], "sent_at": row["created_at"],
                         "author_role": "customer", "author_id": row["requester_id"],
                         "message_id": f"{row['ticket_id']}/description", "text": row["text"]})

    for record in by_kind.get("ratings", []):
        r = record.value
        ratings = r.get("ratings") if isinstance(r.get("ratings"), dict) else {}
        value = ratings.get("default_question")
        when = to_utc(r.get("created_at"))
        try:
            score = RATING_TO_CSAT.get(int(value))
        except (TypeError, ValueError):
            score = None
        if score is None:
            ledger.reject(record, f"satisfaction rating {r.get('id')}: default_question {value!r} is not on "
                                  f"Freshdesk's scale (103, 102, 101, 100, -101, -102, -103)")
        elif when is None:
            ledger.reject(record, f"satisfaction rating {r.get('id')}: created_at {r.get('created_at')!r} is not "
                                  f"a valid time")
        else:
            ledger.use(record)
            surveys.append({RECORD_KEY: record, "kind": "csat", "score": score, "responded_at": when,
                            "ticket_id": _id(r.get("ticket_id")), "account_id": _id(r.get("user_id")),
                            "agent_id": _id(r.get("agent_id")), "vendor_score": int(value),
                            "comment": r.get("feedback"),
                            "other_questions": ";".join(f"{k}={v}" for k, v in ratings.items()
                                                        if k != "default_question") or None})
    return finish("Freshdesk", path, ledger, tickets=tickets, messages=messages, surveys=surveys,
                  figures=figures, expected=EXPECTED)
