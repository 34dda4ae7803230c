"""Salesforce Service Cloud exports -> canonical tickets, messages and surveys (``cxlens convert salesforce``).

Input: a folder with one file (or folder) per object, as Data Export, Data Loader or a SOQL query writes them:
``Case``, ``CaseComment``, ``EmailMessage``, ``CaseMilestone`` and, for Feedback Management surveys,
``SurveyQuestionResponse`` with ``SurveySubject`` (which case an invitation is about) and ``SurveyQuestion``
(each question's type). CSV files are read record by record (a broken line is quarantined); JSON files may be
REST query results (``{"records": [{"attributes": {"type": "Case"}, ...}], "nextRecordsUrl": ...}``), where each
record's ``attributes.type`` names its object. The field mapping is in docs/data-model.md ("Salesforce").
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from cxlens._adapter_common import (RECORD_KEY, Converted, Ledger, Record, finish, html_to_text, load_json_records,
                                    to_seconds, to_utc)
from cxlens.errors import UnreadableFileError
from cxlens.io import REASON_COL, ROW_COL, read_frame

__all__ = ["OBJECTS", "read_salesforce"]

#: what the input should hold (said when nothing usable is found)
EXPECTED = ("Case, CaseComment, EmailMessage, CaseMilestone files (CSV or JSON query results)")

#: object name -> file-name prefix (lower case; the longest prefix wins: casecomment before case)
OBJECTS = {"Case": "case", "CaseComment": "casecomment", "EmailMessage": "emailmessage",
           "CaseMilestone": "casemilestone", "SurveyQuestionResponse": "surveyquestionresponse",
           "SurveySubject": "surveysubject", "SurveyQuestion": "surveyquestion"}
STATUSES = {"new": "new", "working": "open", "escalated": "open", "on hold": "on_hold",
            "waiting on customer": "pending", "closed": "closed"}
#: Feedback Management question types -> (canonical kind, lowest, highest)
QUESTION_KINDS = {"nps": ("nps", 0, 10), "csat": ("csat", 1, 5), "rating": ("csat", 1, 5)}


def _true(value: Any) -> bool:
    return str(value).strip().lower() in ("true", "1", "yes")


def _object_of(file: Path) -> str | None:
    name = file.name.lower()
    best = [(len(prefix), obj) for obj, prefix in OBJECTS.items() if name.startswith(prefix)]
    return max(best)[1] if best else None


def _clean(value: Any) -> Any:
    if isinstance(value, float) and np.isnan(value):
        return None
    return value


def _csv_records(file: Path, encoding: str) -> list[Record]:
    obj = _object_of(file) or "unknown"
    frame, bad = read_frame(file, encoding=encoding)
    records = [Record(str(file), obj, int(row[ROW_COL]), {k: _clean(v) for k, v in row.items()
                                                           if not str(k).startswith("_")})
               for row in frame.to_dict("records")]
    for i, row in enumerate(bad.to_dict("records"), start=1):
        number = row.get(ROW_COL)
        number = int(number) if isinstance(number, (int, float)) and not np.isnan(number) else -i
        records.append(Record(str(file), obj, number, ValueError(row[REASON_COL], str(row.get("_raw", ""))[:1000])))
    return records


def _load(path: Path, encoding: str) -> list[Record]:
    if not path.exists():
        raise UnreadableFileError(f"{path} does not exist.")
    files = sorted(p for p in path.rglob("*") if p.is_file() and not p.is_symlink()) if path.is_dir() else [path]
    records: list[Record] = []
    json_kinds = {"records": ("records", *OBJECTS.values())}
    for file in files:
        if file.suffix.lower() == ".csv":
            records += _csv_records(file, encoding)
        elif file.suffix.lower() in (".json", ".jsonl", ".ndjson"):
            for r in load_json_records(file, kinds=json_kinds, encoding=encoding):
                attrs = r.value.get("attributes") if isinstance(r.value, dict) else None
                obj = attrs.get("type") if isinstance(attrs, dict) else None
                records.append(Record(r.source, obj or _object_of(file) or "unknown", r.row, r.value))
    if not records:
        raise UnreadableFileError(f"{path} holds no Salesforce object files (Case.csv, CaseComment.csv, "
                                  f"EmailMessage.csv, CaseMilestone.csv, or JSON query results).")
    return records


def _nested(rec: dict, dotted: str) -> Any:
    """``MilestoneType.Name`` as a CSV column or as a nested JSON object."""
    if dotted in rec:
        return rec[dotted]
    value: Any = rec
    for part in dotted.split("."):
        value = value.get(part) if isinstance(value, dict) else None
    return value


def _milestone_slug(name: str) -> str:
    return re.sub(r"[^a-z0-9]+", "_", name.lower()).strip("_") or "milestone"


def read_salesforce(path: str | Path, *, encoding: str = "utf-8") -> Converted:
    """A Salesforce Service Cloud export -> tickets, messages, surveys (see the module docstring)."""
    ledger = Ledger()
    by_kind: dict[str, list[Record]] = {}
    for record in ledger.add(_load(Path(path), encoding)):
        by_kind.setdefault(record.kind, []).append(record)
    for kind in set(by_kind) - set(OBJECTS):
        for record in by_kind.pop(kind):
            ledger.reject(record, f"a {kind} record: not a Salesforce object this adapter reads")
    cases: dict[str, Record] = {}
    set_aside: dict[str, str] = {}
    for record in by_kind.get("Case", []):
        c = record.value
        cid = c.get("Id")
        if not cid:
            ledger.reject(record, "Case has no Id")
        elif cid in cases:
            ledger.reject(record, f"repeated Case {cid} (the first is used)")
        elif _true(c.get("IsDeleted")) and c.get("MasterRecordId"):
            ledger.reject(record, f"Case {cid} was merged into Case {c['MasterRecordId']}")
            set_aside[cid] = "merged"
        elif _true(c.get("IsDeleted")):
            ledger.reject(record, f"Case {cid} was deleted in Salesforce")
            set_aside[cid] = "deleted"
        elif to_utc(c.get("CreatedDate")) is None:
            ledger.reject(record, f"Case {cid}: CreatedDate {c.get('CreatedDate')!r} is not a valid time")
            set_aside[cid] = "no valid CreatedDate"
        else:
            cases[cid] = record
            ledger.use(record)
    milestones: dict[str, dict[str, dict]] = {}
    for record in by_kind.get("CaseMilestone", []):
        m = record.value
        cid = m.get("CaseId")
        name = str(_nested(m, "MilestoneType.Name") or m.get("MilestoneTypeId") or "")
        if cid not in cases:
            ledger.reject(record, f"CaseMilestone of Case {cid}, which is not in the export (or was set aside)")
            continue
        ledger.use(record)
        milestones.setdefault(cid, {})[_milestone_slug(name)] = m

    tickets, messages, surveys, figures = [], [], [], []
    for cid, record in cases.items():
        c = record.value
        created = to_utc(c.get("CreatedDate"))
        closed = _true(c.get("IsClosed")) or str(c.get("Status") or "").lower() == "closed"
        status = "closed" if closed else STATUSES.get(str(c.get("Status") or "").strip().lower(), "open")
        owner = str(c.get("OwnerId") or "")
        row = {RECORD_KEY: record, "ticket_id": cid, "created_at": created,
               "channel": str(c["Origin"]).lower() if c.get("Origin") else None, "account_id": c.get("AccountId")
               or c.get("ContactId"), "agent_id": owner if owner.startswith("005") else None,
               "team": owner if owner.startswith("00G") else None, "subject": c.get("Subject"),
               "text": c.get("Description"), "status": status,
               "priority": str(c["Priority"]).lower() if c.get("Priority") else None,
               "resolved_at": to_utc(c.get("ClosedDate")) if closed else None, "case_number": c.get("CaseNumber"),
               "contact_id": c.get("ContactId"), "sf_type": c.get("Type"), "sf_reason": c.get("Reason"),
               "sf_status": c.get("Status"), "escalated": _true(c.get("IsEscalated"))}
        figure: dict[str, Any] = {"ticket_id": cid}
        for slug, m in milestones.get(cid, {}).items():
            row[f"sf_{slug}_target_min"] = to_seconds(m.get("TargetResponseInMins"))
            row[f"sf_{slug}_violated"] = _true(m.get("IsViolated"))
            row[f"sf_{slug}_elapsed_min"] = to_seconds(m.get("ElapsedTimeInMins"))
            row[f"sf_{slug}_actual_elapsed_min"] = to_seconds(m.get("ActualElapsedTimeInMins"))
            row[f"sf_{slug}_completed_at"] = to_utc(m.get("CompletionDate"))
            metric = "first_response" if "response" in slug else "resolution" if "resol" in slug else None
            completed = to_utc(m.get("CompletionDate"))
            if metric and completed is not None:
                # ElapsedTimeInMins runs on the milestone's business hours and ActualElapsedTimeInMins is that less
                # the stopped time (Salesforce: Elapsed - Stopped = Actual): neither is calendar time, so the
                # calendar figure is the milestone's CompletionDate counted from the case's CreatedDate
                figure[f"vendor_{metric}_s"] = (completed - created).total_seconds()
                figure[f"vendor_{metric}_business_s"] = to_seconds(m.get("ElapsedTimeInMins"), unit=60.0)
        if len(figure) > 1:
            figures.append(figure)
        tickets.append(row)
        if c.get("Description"):  # the case's description is the customer's first message
            messages.append({RECORD_KEY: record, "ticket_id": cid, "sent_at": created, "author_role": "customer",
                             "author_id": c.get("ContactId"), "message_id": f"{cid}/description",
                             "text": c.get("Description"), "sf_object": "Case"})
    for kind, role_of, text_of, time_key in (
            ("CaseComment", lambda r: "agent" if _true(r.get("IsPublished")) else "note",
             lambda r: r.get("CommentBody"), "CreatedDate"),
            ("EmailMessage", lambda r: "customer" if _true(r.get("Incoming")) else "agent",
             lambda r: r.get("TextBody") or html_to_text(r.get("HtmlBody")), "MessageDate")):
        for record in by_kind.get(kind, []):
            r = record.value
            cid = r.get("ParentId")
            sent = to_utc(r.get(time_key)) or to_utc(r.get("CreatedDate"))
            if cid in set_aside:
                ledger.reject(record, f"{kind} of Case {cid}, which was set aside ({set_aside[cid]})")
            elif _true(r.get("IsDeleted")):
                ledger.reject(record, f"{kind} {r.get('Id')} was deleted in Salesforce")
            elif sent is None or not r.get("Id"):
                ledger.reject(record, f"{kind} of Case {cid}: no Id, or no valid {time_key}/CreatedDate")
            else:
                ledger.use(record)
                messages.append({RECORD_KEY: record, "ticket_id": cid, "sent_at": sent, "author_role": role_of(r),
                                 "author_id": r.get("CreatedById") or r.get("FromAddress"), "message_id": r["Id"],
                                 "text": text_of(r), "sf_object": kind})
    invitation_case = {}
    for record in by_kind.get("SurveySubject", []):
        ledger.use(record)
        subject = str(record.value.get("SubjectId") or "")
        if subject.startswith("500"):  # a Case id
            invitation_case[record.value.get("ParentId")] = subject
    question_type = {}
    for record in by_kind.get("SurveyQuestion", []):
        ledger.use(record)
        question_type[record.value.get("Id")] = str(record.value.get("QuestionType") or "").lower()
    for record in by_kind.get("SurveyQuestionResponse", []):
        r = record.value
        qtype = str(_nested(r, "Question.QuestionType") or question_type.get(r.get("QuestionId")) or "").lower()
        kind = QUESTION_KINDS.get(qtype)
        try:
            value = float(r.get("NumberValue") if r.get("NumberValue") not in (None, "") else r.get("ResponseValue"))
        except (TypeError, ValueError):
            value = np.nan
        when = to_utc(r.get("CreatedDate"))
        if kind is None:
            ledger.use(record)  # a free-text or choice answer: kept with the survey, not a score
            continue
        if not (np.isfinite(value) and kind[1] <= value <= kind[2]) or when is None:
            ledger.reject(record, f"SurveyQuestionResponse {r.get('Id')}: {qtype} answer {value!r} is off the "
                                  f"{kind[0]} scale {kind[1]}-{kind[2]} or CreatedDate is not a valid time")
            continue
        ledger.use(record)
        surveys.append({RECORD_KEY: record, "kind": kind[0], "score": value, "responded_at": when,
                        "ticket_id": r.get("CaseId") or invitation_case.get(r.get("InvitationId")),
                        "vendor_question_type": qtype, "invitation_id": r.get("InvitationId")})
    result = finish("Salesforce", path, ledger, tickets=tickets, messages=messages, surveys=surveys,
                    figures=figures, expected=EXPECTED)
    result.tickets = result.tickets.copy()
    for col in result.tickets.columns:  # milestone timestamps to UTC datetimes
        if col.endswith("_completed_at"):
            result.tickets[col] = pd.to_datetime(result.tickets[col], utc=True)
    return result
