"""HubSpot Service Hub exports -> canonical tickets, messages and surveys (``cxlens convert hubspot``).

Input: one JSON/JSON Lines file or a folder of them, as the CRM v3 API returns them: ticket pages
(``tickets*.json``: ``{"results": [{"id", "properties": {...}, "associations": {...}, "archived"}],
"paging": {...}}``), conversation-thread messages (``messages*.json``: ``{"ticket_id": "...", "results": [...]}``,
one page per ticket's thread, or messages carrying ``ticket_id``) and feedback submissions
(``feedback*.json``). Durations are milliseconds. The field mapping is in docs/data-model.md ("HubSpot").
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from cxlens._adapter_common import (RECORD_KEY, Converted, Ledger, Record, finish, html_to_text, iter_dicts,
                                    latest_versions, load_json_records, to_id as _id, to_seconds, to_utc)

__all__ = ["KINDS", "SURVEY_KINDS", "read_hubspot"]

#: what the input should hold (said when nothing usable is found)
EXPECTED = ("tickets*.json pages ({\"results\": [{\"id\", \"properties\"}]}), messages*.json and "
            "feedback*.json")

KINDS = {
    "tickets": ("results", "tickets"),
    "messages": ("results", "messages", "threads"),
    "feedback": ("results", "feedback_submissions", "feedback"),
}
#: the default Support pipeline's stages; other stage ids: closed when closed_date is set, else open
STAGES = {"1": "new", "2": "pending", "3": "open", "4": "closed"}
CHANNELS = {"email": "email", "chat": "chat", "form": "web", "phone": "phone", "facebook_messenger": "social",
            "whatsapp": "social"}
#: ``hs_survey_type`` -> (canonical kind, lowest, highest): answers are kept on the vendor's scale, which is the
#: canonical one (HubSpot's NPS 0-10, CES 1-7, CSAT 1-5); an answer off it is quarantined
SURVEY_KINDS = {"nps": ("nps", 0, 10), "csat": ("csat", 1, 5), "customer_satisfaction": ("csat", 1, 5),
                "ces": ("ces", 1, 7), "customer_effort": ("ces", 1, 7)}
MS = 0.001


def _associated(obj: dict, kind: str) -> str | None:
    assoc = obj.get("associations") if isinstance(obj.get("associations"), dict) else {}
    group = assoc.get(kind) if isinstance(assoc.get(kind), dict) else {}
    return next((_id(a.get("id")) for a in iter_dicts(group.get("results"))), None)


def _role(message: dict) -> str | None:
    kind = str(message.get("type") or "").upper()
    if kind == "COMMENT":
        return "note"
    if kind != "MESSAGE":
        return None  # a thread event (status change, assignment): not a message
    actor = str(message.get("createdBy") or next((s.get("actorId") for s in iter_dicts(message.get("senders"))), ""))
    if actor.startswith("B-"):
        return "bot"
    if actor.startswith(("V-", "E-")) or str(message.get("direction") or "").upper() == "INCOMING":
        return "customer"
    if actor.startswith(("S-", "I-")):
        return "system"
    return "agent"


def read_hubspot(path: str | Path, *, encoding: str = "utf-8") -> Converted:
    """A HubSpot tickets export -> tickets, messages, surveys (see the module docstring)."""
    ledger = Ledger()
    by_kind: dict[str, list[Record]] = {}
    for record in ledger.add(load_json_records(path, kinds=KINDS, encoding=encoding)):
        by_kind.setdefault(record.kind, []).append(record)
    for record in by_kind.pop("unknown", []):
        ledger.reject(record, "not a HubSpot record this adapter knows (name ticket, message and feedback files "
                              "tickets*.json, messages*.json, feedback*.json)")
    flattened = []
    for record in by_kind.get("tickets", []):  # properties hold the fields; createdate is the creation time
        props = record.value.get("properties") if isinstance(record.value.get("properties"), dict) else {}
        flattened.append(Record(record.source, record.kind, record.row,
                                {**props, **record.value, "createdate": props.get("createdate")
                                 or record.value.get("createdAt"), "updated": props.get("hs_lastmodifieddate")
                                 or record.value.get("updatedAt")}))
    originals = {r.key: r for r in by_kind.get("tickets", [])}
    # the flattened records share their originals' keys: fates recorded on them are the originals'
    kept = latest_versions(flattened, ledger, what="ticket", created_key="createdate", updated_key="updated")
    merged_into = {}
    for tid, record in kept.items():
        ids = str(record.value.get("hs_merged_object_ids") or "")
        for other in filter(None, (x.strip() for x in ids.split(";"))):
            merged_into[other] = tid
    tickets, messages, surveys, figures = [], [], [], []
    for tid, flat in kept.items():
        record, t = originals[flat.key], flat.value
        if t.get("archived") is True:
            ledger.reject(record, f"ticket {tid} was deleted (archived) in HubSpot")
            continue
        if tid in merged_into:
            ledger.reject(record, f"ticket {tid} was merged into ticket {merged_into[tid]}")
            continue
        created = to_utc(t.get("createdate"))
        closed = to_utc(t.get("closed_date"))
        stage = _id(t.get("hs_pipeline_stage"))
        status = STAGES.get(stage or "", "closed" if closed is not None else "open")
        source = str(t.get("source_type") or "").lower() or None
        tickets.append({
            RECORD_KEY: record, "ticket_id": tid, "created_at": created, "channel": CHANNELS.get(source, source),
            "account_id": _associated(t, "companies") or _associated(t, "contacts"),
            "agent_id": _id(t.get("hubspot_owner_id")), "team": _id(t.get("hubspot_team_id")),
            "subject": t.get("subject"), "text": html_to_text(t.get("content")), "status": status,
            "priority": str(t["hs_ticket_priority"]).lower() if t.get("hs_ticket_priority") else None,
            "resolved_at": closed if status == "closed" else None,
            "hs_pipeline": _id(t.get("hs_pipeline")), "hs_pipeline_stage": stage,
            "category": t.get("hs_ticket_category"), "contact_id": _associated(t, "contacts"),
            "hs_merged_object_ids": t.get("hs_merged_object_ids"),
            "hs_time_to_close_ms": to_seconds(t.get("time_to_close")),
            "hs_time_to_first_agent_reply_ms": to_seconds(t.get("time_to_first_agent_reply")),
            "hs_time_to_first_response_in_operating_hours_ms": to_seconds(
                t.get("hs_time_to_first_response_in_operating_hours")),
            "hs_time_to_close_in_operating_hours_ms": to_seconds(t.get("hs_time_to_close_in_operating_hours")),
        })
        figures.append({"ticket_id": tid,
                        "vendor_first_response_s": to_seconds(t.get("time_to_first_agent_reply"), unit=MS),
                        "vendor_first_response_business_s": to_seconds(
                            t.get("hs_time_to_first_response_in_operating_hours"), unit=MS),
                        "vendor_resolution_s": to_seconds(t.get("time_to_close"), unit=MS),
                        "vendor_resolution_business_s": to_seconds(t.get("hs_time_to_close_in_operating_hours"),
                                                                   unit=MS)})
    first_message = {}
    for record in by_kind.get("messages", []):
        m = record.value
        tid = _id(m.get("ticket_id"))
        sent = to_utc(m.get("createdAt"))
        role = _role(m)
        if tid is None:
            ledger.reject(record, "message without a ticket_id (export each ticket's thread as a {ticket_id, "
                                  "results} page)")
        elif sent is None or _id(m.get("id")) is None:
            ledger.reject(record, f"message of ticket {tid}: no id, or createdAt {m.get('createdAt')!r} is not a "
                                  f"valid time")
        elif tid in merged_into:
            ledger.reject(record, f"message of ticket {tid}, merged into ticket {merged_into[tid]}")
        elif role is None:
            ledger.use(record)  # a thread event: read, not a message
        else:
            ledger.use(record)
            text = m.get("text") if m.get("text") is not None else html_to_text(m.get("richText"))
            messages.append({RECORD_KEY: record, "ticket_id": tid, "sent_at": sent, "author_role": role,
                             "author_id": _id(m.get("createdBy")), "message_id": _id(m["id"]), "text": text,
                             "direction": m.get("direction"), "hs_channel_id": _id(m.get("channelId"))})
            first_message.setdefault(tid, sent)
    for row in tickets:  # a ticket without thread messages: its content is the customer's first message
        if row["ticket_id"] not in first_message and row["text"]:
            messages.append({RECORD_KEY: row[RECORD_KEY], "ticket_id": row["ticket_id"], "sent_at": row["created_at"],
                             "author_role": "customer", "author_id": row["contact_id"],
                             "message_id": f"{row['ticket_id']}/content", "text": row["text"]})
    for record in by_kind.get("feedback", []):
        f = record.value
        props = f.get("properties") if isinstance(f.get("properties"), dict) else {}
        kind = SURVEY_KINDS.get(str(props.get("hs_survey_type") or "").lower())
        when = to_utc(props.get("hs_submission_timestamp")) or to_utc(props.get("hs_createdate")) \
            or to_utc(f.get("createdAt"))
        try:
            value = float(props.get("hs_response_value"))
        except (TypeError, ValueError):
            value = np.nan
        if kind is None:
            ledger.reject(record, f"feedback submission {f.get('id')}: survey type {props.get('hs_survey_type')!r} "
                                  f"is not NPS, CSAT or CES")
        elif not (np.isfinite(value) and kind[1] <= value <= kind[2]):
            ledger.reject(record, f"feedback submission {f.get('id')}: hs_response_value "
                                  f"{props.get('hs_response_value')!r} is off the {kind[0]} scale {kind[1]}-{kind[2]}")
        elif when is None:
            ledger.reject(record, f"feedback submission {f.get('id')}: no valid submission time")
        else:
            ledger.use(record)
            surveys.append({RECORD_KEY: record, "kind": kind[0], "score": value, "responded_at": when,
                            "ticket_id": _associated(f, "tickets") or _id(props.get("hs_ticket_id")),
                            "account_id": _associated(f, "contacts") or _id(props.get("hs_contact_id")),
                            "vendor_score": props.get("hs_response_value"), "comment": props.get("hs_content"),
                            "hs_sentiment": props.get("hs_sentiment")})
    return finish("HubSpot", path, ledger, tickets=tickets, messages=messages, surveys=surveys,
                  figures=figures, expected=EXPECTED)
