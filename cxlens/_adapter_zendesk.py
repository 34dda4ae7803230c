"""Zendesk Support exports -> canonical tickets, messages and surveys (``cxlens convert zendesk``).

Input: one JSON/JSON Lines file or a folder of them, as the Support API writes them: ticket pages
(``{"tickets": [...]}``, incremental-export pages with ``next_page``/``end_of_stream``, sideloads such as
``users`` and ``metric_sets`` in the same page), ticket comments (``{"ticket_id": 7, "comments": [...]}`` pages,
comments carrying ``ticket_id``, or ``comments`` embedded in each ticket as the full JSON export has them),
ticket metrics (``ticket_metrics``), legacy satisfaction ratings (``satisfaction_ratings``) and CSAT survey
responses (``survey_responses``). A file whose name starts with the kind (``ticket_comments-2.jsonl``) may hold
bare records. The field mapping is in docs/data-model.md ("Zendesk").
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import numpy as np

from cxlens._adapter_common import (RECORD_KEY, Converted, Ledger, Record, finish, html_to_text, iter_dicts,
                                    latest_versions, load_json_records, to_id as _id, to_seconds, to_utc)

__all__ = ["KINDS", "LEGACY_SCORES", "read_zendesk"]

#: what the input should hold (said when nothing usable is found)
EXPECTED = ("ticket pages ({\"tickets\": [...]}) or tickets*.json / .jsonl files, with comments, metrics and "
            "ratings beside them")

KINDS = {
    "tickets": ("tickets",),
    "comments": ("comments", "ticket_comments"),
    "metrics": ("ticket_metrics", "metric_sets"),
    "ratings": ("satisfaction_ratings", "satisfaction"),
    "responses": ("survey_responses", "csat"),
    "users": ("users",),
}
STATUSES = {"new": "new", "open": "open", "pending": "pending", "hold": "on_hold", "solved": "solved",
            "closed": "closed"}
CHANNELS = {"voice": "phone", "chat": "chat", "native_messaging": "chat", "web": "web", "email": "email",
            "api": "api", "mobile_sdk": "chat", "twitter": "social", "facebook": "social", "any_channel": "social"}
#: ``via.channel`` (or ``via.source.rel``) of comments written by Answer Bot / the AI agent
BOT_CHANNELS = {"answer_bot", "answer_bot_for_agents", "answer_bot_for_sdk", "answer_bot_for_slack",
                "answer_bot_api", "answer_bot_for_web_widget", "ai_agent", "bot", "zendesk_bot"}
#: legacy satisfaction ``score`` -> CSAT 1-5 (None: offered or not offered, not an answer)
LEGACY_SCORES = {"good": 5.0, "good_with_comment": 5.0, "bad": 1.0, "bad_with_comment": 1.0,
                 "offered": None, "unoffered": None}
CATEGORY_SCORES = {"good": 5.0, "neutral": 3.0, "bad": 1.0}
METRICS = ("reply_time_in_minutes", "first_resolution_time_in_minutes", "full_resolution_time_in_minutes",
           "agent_wait_time_in_minutes", "requester_wait_time_in_minutes", "on_hold_time_in_minutes")


def _minutes(metric: Any, basis: str) -> float:
    return to_seconds(metric.get(basis), unit=60.0) if isinstance(metric, dict) else np.nan


def _role(comment: dict, requester: str | None, user_roles: dict[str, str]) -> str:
    via = comment.get("via") if isinstance(comment.get("via"), dict) else {}
    source = via.get("source") if isinstance(via.get("source"), dict) else {}
    if str(via.get("channel", "")).lower() in BOT_CHANNELS or str(source.get("rel", "")).lower() in BOT_CHANNELS:
        return "bot"
    if comment.get("public") is False:
        return "note"
    author = _id(comment.get("author_id"))
    if author == "-1":
        return "system"
    role = user_roles.get(author or "")
    if role in ("agent", "admin"):
        return "agent"
    if role == "end-user" or (author is not None and author == requester):
        return "customer"
    return "agent"


def _comment_text(comment: dict) -> str | None:
    if comment.get("plain_body"):
        return str(comment["plain_body"]).strip()
    if comment.get("html_body"):
        return html_to_text(comment["html_body"])
    body = comment.get("body")
    return html_to_text(body) if body is not None and re.search(r"<[a-zA-Z/][^>]*>|&#?\w+;", str(body)) else body


def _scale_score(answer: dict) -> float | None:
    """A CSAT survey answer on 1-5: a rating on an n-point scale -> 1 + (rating - 1) * 4 / (n - 1); else its
    ``rating_category`` (good 5, neutral 3, bad 1)."""
    rating = answer.get("rating")
    question = answer.get("question") if isinstance(answer.get("question"), dict) else {}
    options = question.get("options") if isinstance(question.get("options"), list) else None
    points = len(options) if options else answer.get("scale") or question.get("scale")
    try:
        rating, points = float(rating), float(points or 5)
    except (TypeError, ValueError):
        return CATEGORY_SCORES.get(str(answer.get("rating_category", "")).lower())
    if points < 2 or not 1 <= rating <= points:
        return None
    return 1.0 + (rating - 1.0) * 4.0 / (points - 1.0)


def read_zendesk(path: str | Path, *, encoding: str = "utf-8") -> Converted:
    """A Zendesk Support export -> tickets, messages, surveys (see the module docstring)."""
    ledger = Ledger()
    records = ledger.add(load_json_records(path, kinds=KINDS, encoding=encoding))
    by_kind: dict[str, list[Record]] = {}
    for record in records:
        by_kind.setdefault(record.kind, []).append(record)
    for record in by_kind.pop("unknown", []):
        ledger.reject(record, "not a Zendesk record this adapter knows")
    user_roles = {}
    for record in by_kind.get("users", []):  # who is an agent: read, not a canonical row
        if _id(record.value.get("id")) is None:
            ledger.reject(record, "user without an id")
            continue
        ledger.use(record)
        user_roles[_id(record.value["id"])] = str(record.value.get("role", "")).lower()
    metrics: dict[str, dict] = {}
    for record in by_kind.get("metrics", []):
        tid = _id(record.value.get("ticket_id"))
        if tid is None:
            ledger.reject(record, "ticket metrics without a ticket_id")
        else:
            if tid in metrics:
                ledger.reject(metrics[tid]["record"], f"repeated metrics of ticket {tid} (the last is used)")
            metrics[tid] = {"record": record, **record.value}
            ledger.use(record)

    tickets, messages, surveys, figures = [], [], [], []
    comment_records = list(by_kind.get("comments", []))
    set_aside: dict[str, str] = {}
    for tid, record in latest_versions(by_kind.get("tickets", []), ledger, what="ticket").items():
        t = record.value
        status = str(t.get("status") or "").lower()
        tags = [str(tag) for tag in t.get("tags") or [] if tag is not None]
        comment_records += ledger.embedded(record, "comments", t.get("comments"), {"ticket_id": tid})  # full export
        if status == "deleted":
            ledger.reject(record, f"ticket {tid} was deleted in Zendesk")
            set_aside[tid] = "deleted"
            continue
        if "closed_by_merge" in tags:
            ledger.reject(record, f"ticket {tid} was merged into another ticket (tag closed_by_merge); its "
                                  f"conversation continues there")
            set_aside[tid] = "merged"
            continue
        if status not in STATUSES:
            ledger.reject(record, f"ticket {tid}: unknown status {t.get('status')!r}")
            set_aside[tid] = "bad status"
            continue
        m = metrics.get(tid) or (t.get("metric_set") if isinstance(t.get("metric_set"), dict) else {})
        via = t.get("via") if isinstance(t.get("via"), dict) else {}
        channel = str(via.get("channel") or "").lower() or None
        solved_at = to_utc(m.get("solved_at"))
        if solved_at is None and STATUSES[status] in ("solved", "closed"):
            solved_at = to_utc(t.get("updated_at"))  # no metrics: the last update of a solved ticket
        paused = _minutes(m.get("agent_wait_time_in_minutes"), "calendar")
        on_hold = _minutes(m.get("on_hold_time_in_minutes"), "calendar")
        row = {
            RECORD_KEY: record, "ticket_id": tid, "created_at": to_utc(t.get("created_at")),
            "channel": CHANNELS.get(channel, channel), "account_id": _id(t.get("organization_id"))
            or _id(t.get("requester_id")), "agent_id": _id(t.get("assignee_id")),
            "team": _id(t.get("group_id")), "subject": t.get("subject") or t.get("raw_subject"),
            "text": t.get("description"), "status": STATUSES[status],
            "priority": str(t["priority"]).lower() if t.get("priority") else None,
            "resolved_at": solved_at if STATUSES[status] in ("solved", "closed") else None,
            "reopened": bool(m["reopens"] > 0) if isinstance(m.get("reopens"), (int, float)) else None,
            "paused_s": (np.nansum([paused, on_hold]) if np.isfinite(paused) or np.isfinite(on_hold) else None),
            "requester_id": _id(t.get("requester_id")), "zendesk_type": t.get("type"),
            "tags": ";".join(tags) or None, "via_channel": channel,
        }
        for name in METRICS:
            short = name.replace("_in_minutes", "")
            for basis in ("calendar", "business"):  # minutes in the export, seconds here (cxlens's unit)
                row[f"zd_{short}_{basis}_s"] = _minutes(m.get(name), basis)
        row["zd_reopens"] = m.get("reopens")
        row["zd_replies"] = m.get("replies")
        tickets.append(row)
        if m:
            figures.append({"ticket_id": tid, "vendor_first_response_s": row["zd_reply_time_calendar_s"],
                            "vendor_first_response_business_s": row["zd_reply_time_business_s"],
                            "vendor_resolution_s": row["zd_full_resolution_time_calendar_s"],
                            "vendor_first_resolution_s": row["zd_first_resolution_time_calendar_s"]})
    requester_of = {row["ticket_id"]: row["requester_id"] for row in tickets}
    for tid, m in metrics.items():
        if tid not in requester_of:
            ledger.reject(m["record"], f"metrics of ticket {tid}, which is not in the export (or was set aside)")

    for record in comment_records:
        c = record.value
        tid = _id(c.get("ticket_id"))
        sent = to_utc(c.get("created_at"))
        if tid is None:
            ledger.reject(record, "comment without a ticket_id (export comments as {ticket_id, comments} pages)")
        elif tid in set_aside:
            ledger.reject(record, f"comment of ticket {tid}, which was set aside ({set_aside[tid]})")
        elif sent is None:
            ledger.reject(record, f"comment {c.get('id')} of ticket {tid}: created_at {c.get('created_at')!r} is "
                                  f"not a valid time")
        elif _id(c.get("id")) is None:
            ledger.reject(record, f"comment of ticket {tid} has no id")
        else:
            ledger.use(record)
            via = c.get("via") if isinstance(c.get("via"), dict) else {}
            messages.append({RECORD_KEY: record, "ticket_id": tid, "sent_at": sent,
                             "author_role": _role(c, requester_of.get(tid), user_roles),
                             "author_id": _id(c.get("author_id")), "message_id": _id(c.get("id")),
                             "text": _comment_text(c), "public": c.get("public"),
                             "via_channel": via.get("channel"), "comment_type": c.get("type")})

    seen_ratings: set[str] = set()
    for record in by_kind.get("ratings", []):
        r = record.value
        score_name = str(r.get("score") or "").lower()
        rid = _id(r.get("id"))
        when = to_utc(r.get("updated_at")) or to_utc(r.get("created_at"))
        if score_name not in LEGACY_SCORES:
            ledger.reject(record, f"satisfaction rating {rid}: unknown score {r.get('score')!r} (expected good, "
                                  f"bad, offered or unoffered)")
        elif LEGACY_SCORES[score_name] is None:
            ledger.use(record)  # offered / not offered: no answer, nothing to score
        elif when is None:
            ledger.reject(record, f"satisfaction rating {rid}: no valid created_at/updated_at")
        elif rid is not None and rid in seen_ratings:
            ledger.reject(record, f"repeated satisfaction rating {rid} (the first is used)")
        else:
            ledger.use(record)
            if rid is not None:  # an embedded rating without an id must not match a ratings record without one
                seen_ratings.add(rid)
            surveys.append({RECORD_KEY: record, "kind": "csat", "score": LEGACY_SCORES[score_name],
                            "responded_at": when, "ticket_id": _id(r.get("ticket_id")),
                            "account_id": _id(r.get("requester_id")), "agent_id": _id(r.get("assignee_id")),
                            "vendor_score": score_name, "comment": r.get("comment"), "reason": r.get("reason"),
                            "source": "satisfaction_rating"})
    for row in tickets:  # embedded ratings not exported on their own
        rating = row[RECORD_KEY].value.get("satisfaction_rating")
        if isinstance(rating, dict) and LEGACY_SCORES.get(str(rating.get("score") or "").lower()) is not None \
                and _id(rating.get("id")) not in seen_ratings:
            when = to_utc(rating.get("updated_at")) or to_utc(row[RECORD_KEY].value.get("updated_at"))
            surveys.append({RECORD_KEY: row[RECORD_KEY], "kind": "csat",
                            "score": LEGACY_SCORES[str(rating["score"]).lower()], "responded_at": when,
                            "ticket_id": row["ticket_id"], "account_id": row["requester_id"],
                            "agent_id": row["agent_id"], "vendor_score": str(rating["score"]).lower(),
                            "comment": rating.get("comment"), "reason": rating.get("reason"),
                            "source": "ticket.satisfaction_rating"})
    for record in by_kind.get("responses", []):
        r = record.value
        zrn = next((z for z in r.get("subject_zrns") or [] if str(z).startswith("zen:ticket:")), None)
        answers = list(iter_dicts(r.get("answers")))
        scored = next((a for a in answers if a.get("type") in ("rating_scale", "closed_ended")
                       and _scale_score(a) is not None), None)
        when = to_utc(r.get("updated_at")) or to_utc(r.get("created_at"))
        if scored is None or when is None:
            ledger.reject(record, f"CSAT survey response {r.get('id')}: no rating answer on a known scale or no "
                                  f"valid time")
            continue
        ledger.use(record)
        comment = next((a.get("value") for a in answers if a.get("type") == "open_ended"), None)
        surveys.append({RECORD_KEY: record, "kind": "csat", "score": _scale_score(scored), "responded_at": when,
                        "ticket_id": str(zrn).rsplit(":", 1)[1] if zrn else None,
                        "account_id": _id(r.get("responder_id")), "vendor_score": scored.get("rating"),
                        "comment": comment, "source": "survey_response"})
    return finish("Zendesk", path, ledger, tickets=tickets, messages=messages, surveys=surveys,
                  figures=figures, expected=EXPECTED)
