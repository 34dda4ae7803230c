"""The vendor's own first-response and resolution figures as an oracle for cxlens's derived ones.

:func:`compare_with_vendor` puts cxlens's value beside the vendor's for each ticket and metric and matches each
difference to a known cause (a bot reply or an internal note the vendor counts, paused time it leaves out, a
reopened ticket, business hours only, messages missing from the export), or reports it as unexplained.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

__all__ = ["MATCH_TOLERANCE_S", "compare_with_vendor"]

#: vendors round their durations to minutes; a difference up to this many seconds is a match
MATCH_TOLERANCE_S = 60.0



def _first_after(messages: pd.DataFrame, role: str, created: pd.Series) -> pd.Series:
    sub = messages[messages["author_role"] == role]
    sub = sub[sub["sent_at"] >= created.reindex(sub["ticket_id"]).to_numpy()]
    return sub.groupby("ticket_id")["sent_at"].min()


def _num(value: Any) -> float:
    """A number, or NaN for None / NA / anything that is not one."""
    try:
        number = float(value)
    except (TypeError, ValueError):
        return np.nan
    return number


def _close(a: float, b: float) -> bool:
    return bool(np.isfinite(a) and np.isfinite(b) and abs(a - b) <= MATCH_TOLERANCE_S)


def compare_with_vendor(tickets: pd.DataFrame, messages: pd.DataFrame, vendor: pd.DataFrame) -> pd.DataFrame:
    """cxlens's first-response and resolution times against the vendor's, one row per ticket and metric.

    ``vendor``: ``ticket_id`` and any of ``vendor_first_response_s``, ``vendor_resolution_s`` (calendar
    seconds), ``vendor_first_resolution_s`` (to the first solve), ``vendor_first_response_business_s``,
    ``vendor_resolution_business_s``. ``tickets`` carries cxlens's ``created_at``, ``first_response_at``,
    ``resolved_at`` and, where known, ``paused_s``. A difference within a minute is a ``match``; a larger one is
    ``explained: ...`` when a known cause accounts for it (the vendor counts a bot reply or an internal note as
    the first response, excludes paused time, counts to the first solve of a reopened ticket, or gives business
    hours only), else ``unexplained``.
    """
    columns = ["ticket_id", "metric", "cxlens_s", "vendor_s", "difference_s", "verdict"]
    if vendor is None or vendor.empty:
        return pd.DataFrame(columns=columns)
    t = tickets.set_index("ticket_id")
    created = t["created_at"]
    wanted = [c for c in ("created_at", "first_response_at", "resolved_at", "paused_s") if c in t]
    rows_of = t[wanted].to_dict("index")  # one lookup per ticket, not a pandas row each time
    first_bot = _first_after(messages, "bot", created)
    first_note = _first_after(messages, "note", created)
    agents = messages[messages["author_role"] == "agent"]
    agent_sent = agents.groupby("ticket_id")["sent_at"].apply(list).to_dict()
    has_fr = bool({"vendor_first_response_s", "vendor_first_response_business_s"} & set(vendor.columns))
    has_res = bool({"vendor_resolution_s", "vendor_resolution_business_s"} & set(vendor.columns))
    rows = []
    for rec in vendor.to_dict("records"):
        tid = rec["ticket_id"]
        ticket = rows_of.get(tid)
        if ticket is None:
            continue
        start = ticket["created_at"]

        def secs(stamp: Any) -> float:
            return float((stamp - start).total_seconds()) if stamp is not None and not pd.isna(stamp) else np.nan

        ours_fr = secs(ticket.get("first_response_at"))
        theirs_fr = _num(rec.get("vendor_first_response_s", np.nan))
        business_fr = _num(rec.get("vendor_first_response_business_s", np.nan))
        agent_times = [secs(x) for x in agent_sent.get(tid, [])]
        if has_fr and (np.isfinite(theirs_fr) or np.isfinite(business_fr) or np.isfinite(ours_fr)):
            if _close(ours_fr, theirs_fr) or (not np.isfinite(ours_fr) and not np.isfinite(theirs_fr)
                                              and not np.isfinite(business_fr)):
                verdict = "match"
            elif _close(secs(first_bot.get(tid)), theirs_fr):
                verdict = "explained: the vendor counts the bot's reply as the first response; cxlens counts " \
                          "only human agents"
            elif _close(secs(first_note.get(tid)), theirs_fr):
                verdict = "explained: the vendor counts an internal note as the first response; cxlens " \
                          "counts only public replies"
            elif not np.isfinite(theirs_fr) and np.isfinite(business_fr):
                verdict = "explained: the vendor gives business hours only (calendar time is not comparable)"
            elif np.isfinite(ours_fr) and not np.isfinite(theirs_fr):
                verdict = "explained: the vendor has no figure for this ticket"
            elif not np.isfinite(ours_fr) and not agent_times:
                verdict = "explained: the export holds no agent reply for this ticket (its messages are missing)"
            elif ours_fr < theirs_fr and any(_close(a, theirs_fr) for a in agent_times):
                verdict = "explained (likely): the vendor does not count cxlens's first agent reply but a later " \
                          "one; the first is probably a bot or an automation posting as an agent (the export " \
                          "has no bot flag for it)"
            else:
                verdict = "unexplained"
            rows.append({"ticket_id": tid, "metric": "first_response", "cxlens_s": ours_fr, "vendor_s": theirs_fr,
                         "difference_s": ours_fr - theirs_fr, "verdict": verdict})
        ours_res = secs(ticket.get("resolved_at"))
        theirs_res = _num(rec.get("vendor_resolution_s", np.nan))
        first_res = _num(rec.get("vendor_first_resolution_s", np.nan))
        business_res = _num(rec.get("vendor_resolution_business_s", np.nan))
        paused = _num(ticket.get("paused_s"))
        if has_res and (np.isfinite(theirs_res) or np.isfinite(ours_res) or np.isfinite(business_res)):
            if _close(ours_res, theirs_res):
                verdict = "match"
            elif np.isfinite(paused) and paused > 0 and _close(ours_res - paused, theirs_res):
                verdict = "explained: the vendor leaves out paused time (pending / on hold)"
            elif _close(ours_res, first_res):
                verdict = "explained: the ticket was reopened; cxlens's solve time matches the vendor's first " \
                          "solve, the vendor's figure counts to a later one"
            elif not np.isfinite(theirs_res) and np.isfinite(business_res):
                verdict = "explained: the vendor gives business hours only (calendar time is not comparable)"
            elif np.isfinite(ours_res) and not np.isfinite(theirs_res):
                verdict = "explained: the vendor has no figure for this ticket"
            elif not np.isfinite(ours_res) and np.isfinite(theirs_res):
                verdict = "explained: the ticket is not solved in the export (the vendor's figure is from an " \
                          "earlier solve)"
            else:
                verdict = "unexplained"
            rows.append({"ticket_id": tid, "metric": "resolution", "cxlens_s": ours_res, "vendor_s": theirs_res,
                         "difference_s": ours_res - theirs_res, "verdict": verdict})
    return pd.DataFrame(rows, columns=columns)
